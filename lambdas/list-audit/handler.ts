import { authorizedCaller, httpHandler, jsonResponse } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { EventAdmin } from '../shared/ports/event-admin.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import { listAudit } from '../shared/use-cases/administer-events.js';
import { awsEventAdmin, awsRateLimiter } from '../shared/wiring/aws.js';

/** GET /v1/audit?limit&before&action (admin). */
export function createListAuditHandler(admin: EventAdmin, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'admin');
    return jsonResponse(200, await listAudit(admin, caller.tenantId, event.queryStringParameters ?? {}));
  }, { limiter });
}

export const handler = lazyHandler(async () => createListAuditHandler(await awsEventAdmin(), awsRateLimiter()));
