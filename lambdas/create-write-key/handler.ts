import { authorizedCaller, httpHandler, jsonResponse, readJsonBody } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import type { WriteKeyStore } from '../shared/ports/write-key-store.js';
import { createWriteKey } from '../shared/use-cases/manage-write-keys.js';
import { awsRateLimiter, awsWriteKeyStore } from '../shared/wiring/aws.js';

/** POST /v1/keys (admin): 201 with the new key, which is never shown again. */
export function createCreateWriteKeyHandler(store: WriteKeyStore, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'admin');
    const created = await createWriteKey(store, { tenantId: caller.tenantId, actor: caller.subject }, readJsonBody(event));
    // The secret is in this answer only: no cache on the way may keep it.
    return jsonResponse(201, created, { 'cache-control': 'no-store' });
  }, { limiter });
}

export const handler = lazyHandler(async () => createCreateWriteKeyHandler(awsWriteKeyStore(), awsRateLimiter()));
