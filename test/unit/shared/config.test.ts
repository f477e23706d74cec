import { describe, expect, it } from 'vitest';
import { ConfigError, loadLocalConfig } from '../../../lambdas/shared/config.js';

describe('loadLocalConfig', () => {
  it('has working defaults for an empty environment', () => {
    const config = loadLocalConfig({});
    expect(config.port).toBe(3000);
    expect(config.ingest.piiPolicy.detectors.size).toBe(5);
    expect(config.queue).toEqual({ batchSize: 10, batchWindowMs: 100, maxReceiveCount: 5, visibilityTimeoutMs: 30_000 });
  });

  it('names every bad key at once', () => {
    let error: unknown;
    try {
      loadLocalConfig({ PORT: 'eighty', PII_DETECTORS: 'email,retina', JWT_SECRET: 'short', EVENTS_QUEUE_URL: 'not a url' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const key of ['PORT', 'PII_DETECTORS', 'JWT_SECRET', 'EVENTS_QUEUE_URL']) expect(message).toContain(key);
  });
});
