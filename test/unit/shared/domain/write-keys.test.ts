import { describe, expect, it } from 'vitest';
import { callerForWriteKey, hashWriteKey, newWriteKey, summariseWriteKey, writeKeyId, type WriteKeyRecord } from '../../../../lambdas/shared/domain/write-keys.js';
import { TENANT_A } from '../../../support/factories.js';

function recordOf(key: string, keyId: string, overrides: Partial<WriteKeyRecord> = {}): WriteKeyRecord {
  return { keyId, tenantId: TENANT_A, name: 'web', keyHash: hashWriteKey(key), createdAt: '2026-11-26T00:00:00Z', createdBy: 'admin', ...overrides };
}

describe('write keys', () => {
  it('are wk_, a 16-hex-digit id and 256 random bits, different every time', () => {
    const first = newWriteKey();
    const second = newWriteKey();
    expect(first.key).toMatch(/^wk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(writeKeyId(first.key)).toBe(first.keyId);
    expect(second.key).not.toBe(first.key);
  });

  it('stand for their tenant with events:write only', () => {
    const { keyId, key } = newWriteKey();
    expect(callerForWriteKey(key, recordOf(key, keyId))).toEqual({ tenantId: TENANT_A, subject: `writekey:${keyId}`, scopes: ['events:write'] });
  });

  it('do not pass when revoked, unknown, or when any character of the secret differs', () => {
    const { keyId, key } = newWriteKey();
    expect(callerForWriteKey(key, recordOf(key, keyId, { revokedAt: '2026-11-26T01:00:00Z' }))).toBeUndefined();
    expect(callerForWriteKey(key, undefined)).toBeUndefined();
    const lastChanged = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
    expect(callerForWriteKey(lastChanged, recordOf(key, keyId))).toBeUndefined();
  });

  it('are refused when malformed, before any lookup', () => {
    for (const token of ['wk_', 'wk_abc_def', `wk_${'g'.repeat(16)}_${'a'.repeat(43)}`, `wk_${'a'.repeat(16)}_${'a'.repeat(44)}`, 'eyJhbGciOi.x.y']) {
      expect(writeKeyId(token)).toBeUndefined();
    }
  });

  it('are summarised without the hash', () => {
    const { keyId, key } = newWriteKey();
    expect(JSON.stringify(summariseWriteKey(recordOf(key, keyId)))).not.toContain(hashWriteKey(key));
  });
});
