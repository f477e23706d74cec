import { describe, expect, it } from 'vitest';
import { latestAdmissibleTat, retryAfterMs, retryAfterSeconds } from '../../../../lambdas/shared/domain/rate-limit.js';

const limit = { ratePerSecond: 10, burst: 10 };

describe('GCRA buckets', () => {
  it('admit cost units while the TAT stays within the burst', () => {
    // Empty bucket at t=0: ten units of 100 ms fit, so a TAT up to 900 ms still admits one more.
    expect(latestAdmissibleTat(limit, 0, 1)).toBe(900);
    expect(latestAdmissibleTat(limit, 0, 10)).toBe(0);
  });

  it('say how long until the units fit', () => {
    expect(retryAfterMs(limit, 1000, 0, 1)).toBe(100);
    expect(retryAfterMs(limit, 500, 0, 1)).toBe(0);
  });

  it('round Retry-After up to whole seconds, never to 0', () => {
    expect(retryAfterSeconds({ retryAfterMs: 1 })).toBe(1);
    expect(retryAfterSeconds({ retryAfterMs: 1001 })).toBe(2);
    expect(retryAfterSeconds({ retryAfterMs: 0 })).toBe(1);
  });
});
