import { authorizedCaller, httpHandler, jsonResponse } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { EventQueries } from '../shared/ports/event-queries.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import { summariseEventTypes, type QuerySettings } from '../shared/use-cases/query-events.js';
import { awsEventQueries, awsQuerySettings, awsRateLimiter } from '../shared/wiring/aws.js';

/** GET /v1/analytics/event-types?startTime&endTime */
export function createListEventTypesHandler(queries: EventQueries, settings: QuerySettings, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'events:read');
    const types = await summariseEventTypes(queries, { tenantId: caller.tenantId, actor: caller.subject }, event.queryStringParameters ?? {}, settings);
    return jsonResponse(200, types);
  }, { limiter });
}

export const handler = lazyHandler(async () => createListEventTypesHandler(await awsEventQueries(), awsQuerySettings(), awsRateLimiter()));
