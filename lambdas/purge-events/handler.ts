import { authorizedCaller, httpHandler, jsonResponse } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { EventAdmin } from '../shared/ports/event-admin.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import { purgeEvents } from '../shared/use-cases/administer-events.js';
import { awsEventAdmin, awsRateLimiter } from '../shared/wiring/aws.js';

/** DELETE /v1/events?olderThan=ISO (admin). */
export function createPurgeEventsHandler(admin: EventAdmin, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'admin');
    return jsonResponse(200, await purgeEvents(admin, { tenantId: caller.tenantId, actor: caller.subject }, event.queryStringParameters ?? {}));
  }, { limiter });
}

export const handler = lazyHandler(async () => createPurgeEventsHandler(await awsEventAdmin(), awsRateLimiter()));
