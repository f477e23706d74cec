import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateLimiter } from '../../../../../lambdas/shared/adapters/dynamodb/dynamo-rate-limiter.js';
import { localDynamoClient } from '../../../../../lambdas/shared/adapters/local/embedded-dynamodb.js';
import { countersTableDefinition } from '../../../../../lambdas/shared/adapters/dynamodb/tables.js';
import type { TenantRateLimits } from '../../../../../lambdas/shared/domain/rate-limit.js';
import { startTestDynamo, type TestDynamo } from '../../../../support/embedded-dynamo.js';
import { TENANT_A, TENANT_B } from '../../../../support/factories.js';

const TABLE = 'counters-test';
const limits: TenantRateLimits = { requests: { ratePerSecond: 10, burst: 10 }, events: { ratePerSecond: 1000, burst: 1000 } };
let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo([countersTableDefinition(TABLE)]);
});
afterAll(() => dynamo.stop());

/** A limiter on a clock the test moves. */
function limiterAt(start: number): { limiter: DynamoRateLimiter; clock: { now: number } } {
  const clock = { now: start };
  return { limiter: new DynamoRateLimiter(dynamo.client, TABLE, limits, () => clock.now), clock };
}

async function admitted(limiter: DynamoRateLimiter, tenantId: string, count: number, cost = 1): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < count; i++) if ((await limiter.take(tenantId, 'members', 'requests', cost)).allowed) allowed++;
  return allowed;
}

describe('DynamoRateLimiter (dynalite)', () => {
  it('admits a burst of the bucket size at once, then refuses with the time until one more fits', async () => {
    const { limiter } = limiterAt(1_000_000);
    expect(await admitted(limiter, TENANT_A, 10)).toBe(10);

    const refused = await limiter.take(TENANT_A, 'members', 'requests', 1);

    expect(refused).toEqual({ allowed: false, retryAfterMs: 100 });
  });

  it('refills at the rate: after 500 ms five more fit, not six', async () => {
    const { limiter, clock } = limiterAt(2_000_000);
    await admitted(limiter, TENANT_B, 10);
    clock.now += 500;
    expect(await admitted(limiter, TENANT_B, 6)).toBe(5);
  });

  it('keeps tenants apart: one tenant at its limit leaves the other its whole burst', async () => {
    const { limiter } = limiterAt(3_000_000);
    const flooder = '11111111-1111-4111-8111-111111111111';
    const quiet = '22222222-2222-4222-8222-222222222222';
    await admitted(limiter, flooder, 30);
    expect(await admitted(limiter, quiet, 10)).toBe(10);
  });

  it('weighs a request by its cost: a batch takes as many event units as it has events', async () => {
    const { limiter } = limiterAt(4_000_000);
    const tenant = '33333333-3333-4333-8333-333333333333';
    expect(await limiter.take(tenant, 'members', 'events', 1000)).toEqual({ allowed: true });
    expect(await limiter.take(tenant, 'members', 'events', 1)).toMatchObject({ allowed: false });
    expect(await limiter.take(tenant, 'members', 'requests', 1)).toEqual({ allowed: true });
  });

  it('admits exactly the burst when many instances take at once', async () => {
    // Two limiters on one clock stand for two Lambda containers sharing the table.
    const clock = { now: 5_000_000 };
    const containers = [1, 2].map(() => new DynamoRateLimiter(dynamo.client, TABLE, limits, () => clock.now));
    const tenant = '44444444-4444-4444-8444-444444444444';
    const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => containers[i % 2]!.take(tenant, 'members', 'requests', 1)));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10);
  });

  it('refuses a flood without a round trip once it knows the bucket is full, and asks again when it may have room', async () => {
    const client = localDynamoClient(dynamo.endpoint);
    let calls = 0;
    client.middlewareStack.add((next) => (args) => {
      calls++;
      return next(args);
    });
    const clock = { now: 6_000_000 };
    const limiter = new DynamoRateLimiter(client, TABLE, limits, () => clock.now);
    const tenant = '55555555-5555-4555-8555-555555555555';
    await admitted(limiter, tenant, 10);
    await limiter.take(tenant, 'members', 'requests', 1);
    const afterFirstRefusal = calls;

    const refusals = await Promise.all(Array.from({ length: 100 }, () => limiter.take(tenant, 'members', 'requests', 1)));
    expect(refusals.every((decision) => !decision.allowed)).toBe(true);
    expect(calls).toBe(afterFirstRefusal);

    clock.now += 100;
    expect(await limiter.take(tenant, 'members', 'requests', 1)).toEqual({ allowed: true });
    client.destroy();
  });

  it('never admits more than the burst plus what the rate refilled, for any takes, at once or apart, across containers (fast-check)', async () => {
    const take = fc.record({ cost: fc.integer({ min: 1, max: 12 }), container: fc.integer({ min: 0, max: 1 }) });
    const step = fc.record({ afterMs: fc.integer({ min: 0, max: 400 }), together: fc.array(take, { minLength: 1, maxLength: 5 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const clock = { now: 10_000_000 };
        const containers = [0, 1].map(() => new DynamoRateLimiter(dynamo.client, TABLE, limits, () => clock.now));
        const tenant = randomUUID();
        let admittedUnits = 0;
        for (const { afterMs, together } of steps) {
          clock.now += afterMs;
          const decisions = await Promise.all(together.map(({ cost, container }) => containers[container]!.take(tenant, 'members', 'requests', cost)));
          decisions.forEach((decision, index) => {
            if (decision.allowed) admittedUnits += together[index]!.cost;
            if (together[index]!.cost > limits.requests.burst) expect(decision.allowed).toBe(false);
          });
          const elapsedSeconds = (clock.now - 10_000_000) / 1000;
          expect(admittedUnits).toBeLessThanOrEqual(limits.requests.burst + limits.requests.ratePerSecond * elapsedSeconds);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('lets requests through when DynamoDB does not answer, and counts them', async () => {
    const unreachable = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'local', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const limiter = new DynamoRateLimiter(unreachable, TABLE, limits);
    await expect(limiter.take(TENANT_A, 'members', 'requests', 1)).resolves.toEqual({ allowed: true });
    unreachable.destroy();
  });

  it('fails loudly when the table does not exist: a deployment bug, not an outage', async () => {
    const limiter = new DynamoRateLimiter(dynamo.client, 'no-such-table', limits);
    await expect(limiter.take(TENANT_A, 'members', 'requests', 1)).rejects.toThrow(/non-existent table|not found/i);
  });

  it('refuses units beyond the bucket size at once', async () => {
    const { limiter } = limiterAt(7_000_000);
    expect(await limiter.take('66666666-6666-4666-8666-666666666666', 'members', 'requests', 11)).toMatchObject({ allowed: false });
  });

  it("keeps a write key's bucket apart from the tenant members' bucket", async () => {
    const { limiter } = limiterAt(8_000_000);
    const tenant = '77777777-7777-4777-8777-777777777777';
    for (let i = 0; i < 30; i++) await limiter.take(tenant, 'writekey:00000000000000aa', 'requests', 1);
    expect(await limiter.take(tenant, 'members', 'requests', 1)).toEqual({ allowed: true });
  });
});
