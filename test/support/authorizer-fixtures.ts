import { createTokenVerifier } from '../../lambdas/shared/adapters/jwt/jose-token-verifier.js';
import { mintToken } from '../../lambdas/shared/adapters/jwt/mint-token.js';
import { hashWriteKey, newWriteKey, type WriteKeyRecord } from '../../lambdas/shared/domain/write-keys.js';
import type { WriteKeyStore } from '../../lambdas/shared/ports/write-key-store.js';
import { TENANT_A, TENANT_B } from './factories.js';

const secret = 'test-secret-that-is-at-least-32-characters';

/** What an authorizer is built from in the unit tests: an HS256 verifier and write keys in memory. */
export function authorizerFixtures() {
  const records = new Map<string, WriteKeyRecord>();
  const writeKeys: WriteKeyStore = {
    create: async (record) => void records.set(record.keyId, record),
    find: async (keyId) => records.get(keyId),
    list: async () => [...records.values()],
    revoke: async () => undefined,
  };
  return {
    secret,
    verify: createTokenVerifier({ jwtSecret: secret, issuer: 'tracker', audience: ['api'] }),
    writeKeys,
    /** A write key of tenant B, stored (revoked if `revokedAt` says so). */
    storedKey(overrides: Partial<WriteKeyRecord> = {}): string {
      const { keyId, key } = newWriteKey();
      records.set(keyId, { keyId, tenantId: TENANT_B, name: 'site', keyHash: hashWriteKey(key), createdAt: '2026-11-26T00:00:00Z', createdBy: 'admin', ...overrides });
      return key;
    },
    /** A JWT of tenant A for `user-1`, which the verifier accepts unless `overrides` say otherwise. */
    mint: (overrides: Partial<Parameters<typeof mintToken>[0]> = {}) =>
      mintToken({ secret, tenantId: TENANT_A, subject: 'user-1', scopes: ['events:write'], issuer: 'tracker', audience: 'api', ...overrides }),
  };
}
