import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLiveCounters } from '../../../../../lambdas/shared/adapters/dynamodb/dynamo-live-counters.js';
import { countersTableDefinition } from '../../../../../lambdas/shared/adapters/dynamodb/tables.js';
import { localDynamoClient } from '../../../../../lambdas/shared/adapters/local/embedded-dynamodb.js';
import { CountersUnavailableError } from '../../../../../lambdas/shared/domain/errors.js';
import { MINUTE_MS, periodStart, shardOf, type CounterDelta, type MinuteCount } from '../../../../../lambdas/shared/domain/live-counters.js';
import { startTestDynamo, type TestDynamo } from '../../../../support/embedded-dynamo.js';
import { TENANT_A, TENANT_B } from '../../../../support/factories.js';

const TABLE = 'live-counters-test';
const SETTINGS = { shards: 4, ttlHours: 6 };
let dynamo: TestDynamo;
let store: DynamoLiveCounters;

beforeAll(async () => {
  dynamo = await startTestDynamo([countersTableDefinition(TABLE)]);
  store = new DynamoLiveCounters(dynamo.client, TABLE, SETTINGS);
});
afterAll(() => dynamo.stop());

const minute = (offset: number) => new Date(periodStart(Date.now(), 'minute') + offset * MINUTE_MS).toISOString();
const count = (overrides: Partial<MinuteCount> = {}): MinuteCount => ({ minute: minute(0), type: 'ERROR', category: 'checkout', count: 1, ...overrides });
const delta = (tenantId: string, ...counts: Array<Partial<MinuteCount>>): CounterDelta => ({ deltaId: randomUUID(), tenantId, counts: counts.map(count) });
const window = () => ({ from: periodStart(Date.now(), 'hour') - 3_600_000, to: Date.now() + 3_600_000 });
const read = (tenantId: string, granularity: 'minute' | 'hour' = 'minute') => store.read(tenantId, granularity, window().from, window().to);

async function itemsOf(tenantId: string) {
  const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: TABLE }));
  return Items.filter((item) => item['pk']?.S?.startsWith(`live#${tenantId}#`));
}

const byMinute = (counts: Array<{ minute: string; category: string; count: number }>) => counts.map(({ minute: at, category, count: n }) => `${at.slice(11, 16)} ${category} ${n}`).sort();

describe('DynamoLiveCounters (dynalite)', () => {
  it('adds each delta once to its minute and hour counters, however often it is applied', async () => {
    const tenant = randomUUID();
    const deltas = [delta(tenant, { count: 3 }, { minute: minute(-1), count: 5 }), delta(tenant, { count: 4 }, { category: 'search', count: 2 })];

    const first = await store.apply(deltas);
    const again = await store.apply([...deltas, delta(tenant, { count: 10 })]);

    expect(first.applied.sort()).toEqual(deltas.map((d) => d.deltaId).sort());
    expect(again.applied).toHaveLength(3);
    expect(byMinute(await read(tenant))).toEqual(byMinute([
      { minute: minute(-1), category: 'checkout', count: 5 },
      { minute: minute(0), category: 'checkout', count: 17 },
      { minute: minute(0), category: 'search', count: 2 },
    ]));
    const hours = await read(tenant, 'hour');
    expect(hours.reduce((sum, c) => sum + c.count, 0)).toBe(24);
  });

  it('takes deltas of many keys (several marks and updates per item) exactly once', async () => {
    const tenant = randomUUID();
    const wide = delta(tenant, ...Array.from({ length: 1000 }, (_, index) => ({ category: `key-${index}`, count: index + 1 })));

    await store.apply([wide]);
    await store.apply([wide]);

    const counts = await read(tenant);
    expect(counts).toHaveLength(1000);
    expect(counts.reduce((sum, c) => sum + c.count, 0)).toBe((1000 * 1001) / 2);
  });

  it('merges the shards of a key on read, and a category may hold the separator', async () => {
    const tenant = randomUUID();
    const deltas = Array.from({ length: 40 }, () => delta(tenant, { category: 'a#b#c' }));
    expect(new Set(deltas.map((d) => shardOf(d.deltaId, SETTINGS.shards))).size).toBe(SETTINGS.shards);

    await store.apply(deltas);

    expect(await read(tenant)).toEqual([{ minute: minute(0), type: 'ERROR', category: 'a#b#c', count: 40 }]);
    expect(new Set((await itemsOf(tenant)).map((item) => item['pk']?.S)).size).toBe(SETTINGS.shards);
  });

  it('removes the marks of deltas the outbox deleted with the next update of the same counter', async () => {
    const tenant = randomUUID();
    const old = delta(tenant, {});
    await store.apply([old]);
    store.forget([old.deltaId]);
    // The shard comes from the id's last 8 digits: the same shard as `old`, so the same counters.
    const sameShard = { ...delta(tenant, {}), deltaId: `${randomUUID().slice(0, -8)}${old.deltaId.slice(-8)}` };

    await store.apply([sameShard]);

    const marks = (await itemsOf(tenant)).flatMap((item) => Object.keys(item).filter((name) => name.startsWith('d_')));
    expect(marks).toEqual([`d_${sameShard.deltaId}_0`, `d_${sameShard.deltaId}_0`]);
    expect(await read(tenant)).toEqual([{ minute: minute(0), type: 'ERROR', category: 'checkout', count: 2 }]);
  });

  it("reads a tenant's counters only", async () => {
    await store.apply([delta(TENANT_A, { category: 'mine' }), delta(TENANT_B, { category: 'theirs' })]);

    expect((await read(TENANT_B)).map((c) => c.category)).toEqual(['theirs']);
  });

  it('answers unavailable when DynamoDB does not, and reports what it could not apply', async () => {
    const down = localDynamoClient('http://127.0.0.1:9');
    const offline = new DynamoLiveCounters(down, TABLE, SETTINGS);

    await expect(offline.read(TENANT_A, 'minute', 0, MINUTE_MS)).rejects.toBeInstanceOf(CountersUnavailableError);
    const outcome = await offline.apply([delta(TENANT_A, {})]);

    expect(outcome.applied).toEqual([]);
    expect(outcome.failure).toBeDefined();
    down.destroy();
  });
});
