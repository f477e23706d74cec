import { authorizedCaller, httpHandler, jsonResponse, readJsonBody } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { EventQueries } from '../shared/ports/event-queries.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import { aggregateEvents, type QuerySettings } from '../shared/use-cases/query-events.js';
import { awsEventQueries, awsQuerySettings, awsRateLimiter } from '../shared/wiring/aws.js';

/** POST /v1/analytics/aggregate: time buckets with counts, unique users, value statistics. */
export function createAggregateEventsHandler(queries: EventQueries, settings: QuerySettings, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'events:read');
    const answer = await aggregateEvents(queries, { tenantId: caller.tenantId, actor: caller.subject }, readJsonBody(event), settings);
    return jsonResponse(200, answer);
  }, { limiter });
}

export const handler = lazyHandler(async () => createAggregateEventsHandler(await awsEventQueries(), awsQuerySettings(), awsRateLimiter()));
