import { authorizedCaller, httpHandler, jsonResponse, readJsonBody } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { EventQueries } from '../shared/ports/event-queries.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import { queryEvents, type QuerySettings } from '../shared/use-cases/query-events.js';
import { awsEventQueries, awsQuerySettings, awsRateLimiter } from '../shared/wiring/aws.js';

/** POST /v1/events/query: filtered, paginated events of the caller's tenant. */
export function createQueryEventsHandler(queries: EventQueries, settings: QuerySettings, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'events:read');
    const page = await queryEvents(queries, { tenantId: caller.tenantId, actor: caller.subject }, readJsonBody(event), settings);
    return jsonResponse(200, page);
  }, { limiter });
}

export const handler = lazyHandler(async () => createQueryEventsHandler(await awsEventQueries(), awsQuerySettings(), awsRateLimiter()));
