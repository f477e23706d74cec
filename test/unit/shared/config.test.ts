import { describe, expect, it } from 'vitest';
import { ConfigError, loadLocalConfig } from '../../../lambdas/shared/config.js';

describe('loadLocalConfig', () => {
  it('has working defaults for an empty environment', () => {
    const config = loadLocalConfig({});
    expect(config.port).toBe(3000);
    expect(config.ingest.pii).toEqual({ deployment: { detectors: ['email', 'iban', 'card', 'phone', 'sensitiveKeys', 'ip'], mode: 'redact' }, tenants: {}, hashSecret: undefined });
    expect(config.rateLimits).toEqual({ requests: { ratePerSecond: 100, burst: 100 }, events: { ratePerSecond: 10_000, burst: 10_000 } });
    expect(config.queue).toEqual({ batchSize: 10, batchWindowMs: 100, maxReceiveCount: 5, visibilityTimeoutMs: 30_000 });
  });

  it('names every bad key at once', () => {
    let error: unknown;
    try {
      loadLocalConfig({
        PORT: 'eighty',
        PII_DETECTORS: 'email,retina',
        JWT_SECRET: 'short',
        EVENTS_QUEUE_URL: 'not a url',
        TENANT_RATE_LIMIT_EVENTS: '500',
        PII_TENANT_POLICIES: '{"not-a-tenant": {"detectors": [], "mode": "hash"}}',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const key of ['PORT', 'PII_DETECTORS', 'JWT_SECRET', 'EVENTS_QUEUE_URL', 'TENANT_RATE_LIMIT_EVENTS', 'PII_TENANT_POLICIES']) expect(message).toContain(key);
  });

  it('reads tenant PII rules, and refuses hashing without a secret', () => {
    const tenant = '0b9a5a52-6f0e-4c4e-9a51-0d6f2f1b7c11';
    const policies = JSON.stringify({ [tenant]: { detectors: ['email'], mode: 'hash' } });
    expect(() => loadLocalConfig({ PII_TENANT_POLICIES: policies })).toThrow(/PII_HASH_SECRET: is required/);
    expect(() => loadLocalConfig({ PII_MODE: 'hash' })).toThrow(/PII_HASH_SECRET: is required/);
    const config = loadLocalConfig({ PII_TENANT_POLICIES: policies, PII_HASH_SECRET: 'a-deployment-secret-of-32-characters!' });
    expect(config.ingest.pii.tenants).toEqual({ [tenant]: { detectors: ['email'], mode: 'hash' } });
  });
});
