import { describe, expect, it } from 'vitest';
import { InMemoryRateLimiter } from '../../../../../lambdas/shared/adapters/local/in-memory-rate-limiter.js';
import { TENANT_A, TENANT_B } from '../../../../support/factories.js';

const limits = { requests: { ratePerSecond: 10, burst: 10 }, events: { ratePerSecond: 1000, burst: 1000 } };

function limiterAt(start: number) {
  const clock = { now: start };
  return { limiter: new InMemoryRateLimiter(limits, () => clock.now), clock };
}

async function admitted(limiter: InMemoryRateLimiter, tenantId: string, holder: string, count: number): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < count; i++) if ((await limiter.take(tenantId, holder, 'requests', 1)).allowed) allowed++;
  return allowed;
}

describe('InMemoryRateLimiter', () => {
  it('admits the burst, then refuses with the time until one more fits', async () => {
    const { limiter } = limiterAt(0);
    expect(await admitted(limiter, TENANT_A, 'members', 15)).toBe(10);
    expect(await limiter.take(TENANT_A, 'members', 'requests', 1)).toEqual({ allowed: false, retryAfterMs: 100 });
  });

  it('refills at the rate', async () => {
    const { limiter, clock } = limiterAt(0);
    await admitted(limiter, TENANT_A, 'members', 10);
    clock.now += 300;
    expect(await admitted(limiter, TENANT_A, 'members', 5)).toBe(3);
  });

  it('keeps tenants, holders and kinds apart', async () => {
    const { limiter } = limiterAt(0);
    await admitted(limiter, TENANT_A, 'members', 10);
    expect(await admitted(limiter, TENANT_B, 'members', 1)).toBe(1);
    expect(await admitted(limiter, TENANT_A, 'writekey:00000000000000aa', 1)).toBe(1);
    expect(await limiter.take(TENANT_A, 'members', 'events', 1000)).toEqual({ allowed: true });
  });

  it('refuses more units than the bucket holds, without using any', async () => {
    const { limiter } = limiterAt(0);
    expect(await limiter.take(TENANT_A, 'members', 'events', 1001)).toMatchObject({ allowed: false });
    expect(await limiter.take(TENANT_A, 'members', 'events', 1000)).toEqual({ allowed: true });
  });
});
