import { authorizedCaller, httpHandler, jsonResponse } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import type { WriteKeyStore } from '../shared/ports/write-key-store.js';
import { listWriteKeys } from '../shared/use-cases/manage-write-keys.js';
import { awsRateLimiter, awsWriteKeyStore } from '../shared/wiring/aws.js';

/** GET /v1/keys (admin): the tenant's write keys, without secrets. */
export function createListWriteKeysHandler(store: WriteKeyStore, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'admin');
    return jsonResponse(200, await listWriteKeys(store, caller.tenantId));
  }, { limiter });
}

export const handler = lazyHandler(async () => createListWriteKeysHandler(awsWriteKeyStore(), awsRateLimiter()));
