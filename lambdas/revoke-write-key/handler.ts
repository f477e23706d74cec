import { authorizedCaller, httpHandler, jsonResponse } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import type { WriteKeyStore } from '../shared/ports/write-key-store.js';
import { revokeWriteKey } from '../shared/use-cases/manage-write-keys.js';
import { awsRateLimiter, awsWriteKeyStore } from '../shared/wiring/aws.js';

/** DELETE /v1/keys/{keyId} (admin): the key stops working; revoking twice answers the first revocation. */
export function createRevokeWriteKeyHandler(store: WriteKeyStore, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'admin');
    return jsonResponse(200, await revokeWriteKey(store, { tenantId: caller.tenantId, actor: caller.subject }, event.pathParameters ?? {}));
  }, { limiter });
}

export const handler = lazyHandler(async () => createRevokeWriteKeyHandler(awsWriteKeyStore(), awsRateLimiter()));
