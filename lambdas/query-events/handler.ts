import { readJsonBody, routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { queryEvents } from '../shared/use-cases/query-events.js';
import { awsCallerPorts, awsEventQueries, awsQuerySettings } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** Filtered, paginated events of the caller's tenant. */
export function createHandler(ports: Pick<Ports, 'queries' | 'query' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['query-events'], ports, ({ caller, event }) => queryEvents(ports.queries, caller, readJsonBody(event), ports.query));
}

export const handler = lazyHandler(async () => createHandler({ queries: await awsEventQueries(), query: awsQuerySettings(), ...awsCallerPorts() }));
