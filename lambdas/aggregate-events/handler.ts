import { readJsonBody, routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { aggregateEvents } from '../shared/use-cases/query-events.js';
import { awsCallerPorts, awsEventQueries, awsQuerySettings } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** Time buckets with counts, unique users, value statistics. */
export function createHandler(ports: Pick<Ports, 'queries' | 'query' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['aggregate-events'], ports, ({ caller, event }) => aggregateEvents(ports.queries, caller, readJsonBody(event), ports.query));
}

export const handler = lazyHandler(async () => createHandler({ queries: await awsEventQueries(), query: awsQuerySettings(), ...awsCallerPorts() }));
