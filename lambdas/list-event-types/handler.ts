import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { summariseEventTypes } from '../shared/use-cases/query-events.js';
import { awsCallerPorts, awsEventQueries, awsQuerySettings } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** Per event type in `?startTime&endTime`: count, users, first and last seen, ingestion lag. */
export function createHandler(ports: Pick<Ports, 'queries' | 'query' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['list-event-types'], ports, ({ caller, event }) =>
    summariseEventTypes(ports.queries, caller, event.queryStringParameters ?? {}, ports.query),
  );
}

export const handler = lazyHandler(async () => createHandler({ queries: await awsEventQueries(), query: awsQuerySettings(), ...awsCallerPorts() }));
