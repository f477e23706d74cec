import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { listErrorGroups } from '../shared/use-cases/query-events.js';
import { awsCallerPorts, awsEventQueries, awsQuerySettings } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** `?startTime&endTime&limit`: the range's ERROR events grouped by fingerprint, the largest first. */
export function createHandler(ports: Pick<Ports, 'queries' | 'query' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['list-error-groups'], ports, ({ caller, event }) => listErrorGroups(ports.queries, caller, event.queryStringParameters ?? {}, ports.query));
}

export const handler = lazyHandler(async () => createHandler({ queries: await awsEventQueries(), query: awsQuerySettings(), ...awsCallerPorts() }));
