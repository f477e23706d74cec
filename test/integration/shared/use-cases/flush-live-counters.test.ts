import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoLiveCounters } from '../../../../lambdas/shared/adapters/dynamodb/dynamo-live-counters.js';
import { countersTableDefinition } from '../../../../lambdas/shared/adapters/dynamodb/tables.js';
import { PgCounterOutbox } from '../../../../lambdas/shared/adapters/pg/pg-counter-outbox.js';
import { PgEventStore } from '../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { HOUR_MS, MINUTE_MS, periodStart, type CounterGranularity } from '../../../../lambdas/shared/domain/live-counters.js';
import { LiveCounterFlusher } from '../../../../lambdas/shared/use-cases/flush-live-counters.js';
import { startTestDynamo, type TestDynamo } from '../../../support/embedded-dynamo.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent, type TestEnvelope } from '../../../support/factories.js';
import { recordMetrics } from '../../../support/emf.js';
import { createTestDatabase, type TestDatabase } from '../../../support/test-database.js';

const TABLE = 'live-counters-flush-test';
const SETTINGS = { shards: 4, ttlHours: 6 };
const TYPES = ['ERROR', 'USER_ACTION', 'PERFORMANCE'] as const;
const CATEGORIES = ['checkout', 'search', 'a#b'];

let testDb: TestDatabase;
let dynamo: TestDynamo;
let table = 0;

beforeAll(async () => {
  testDb = await createTestDatabase();
  dynamo = await startTestDynamo([]);
});
afterAll(async () => {
  await dynamo.stop();
  await testDb.drop();
});

/** A table of its own per test: counters from one test never meet another's. */
async function freshTable(): Promise<string> {
  const name = `${TABLE}-${table++}`;
  await dynamo.client.send(new CreateTableCommand(countersTableDefinition(name)));
  return name;
}

beforeEach(async () => {
  await testDb.db.exec('TRUNCATE analytics_events, event_rollups, event_dedupe, audit_log, live_counter_deltas');
});

type Fault = 'none' | 'down' | 'answer-lost';

/** Calls each fault failed, so a test can show it exercised them. */
const faultsFired: Record<Fault, number> = { none: 0, down: 0, 'answer-lost': 0 };

/** The real client, or one that fails: before a call reaches DynamoDB (down), or after it was applied (the answer lost). */
function faultyClient(real: DynamoDBClient, fault: () => Fault): DynamoDBClient {
  return {
    send: async (command: Parameters<DynamoDBClient['send']>[0]) => {
      const now = fault();
      faultsFired[now] += 1;
      if (now === 'down') throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' });
      const answer = await real.send(command);
      if (now === 'answer-lost') throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return answer;
    },
  } as unknown as DynamoDBClient;
}

/** The Postgres rollups of `granularity`, summed over action: what the counters must equal. */
async function rollups(tenantId: string, granularity: CounterGranularity): Promise<Record<string, number>> {
  const rows = await testDb.db.query<{ period_start: Date | string; event_type: string; category: string; n: string | number }>(
    `SELECT period_start, event_type, category, sum(count) AS n FROM event_rollups WHERE tenant_id = $1 AND granularity = $2 GROUP BY 1, 2, 3`,
    [tenantId, granularity],
  );
  return Object.fromEntries(rows.map((row) => [`${new Date(row.period_start).toISOString()} ${row.event_type} ${row.category}`, Number(row.n)]));
}

async function counters(store: DynamoLiveCounters, tenantId: string, granularity: CounterGranularity): Promise<Record<string, number>> {
  const now = Date.now();
  const counts = await store.read(tenantId, granularity, periodStart(now, 'hour') - 3 * HOUR_MS, now + HOUR_MS);
  return Object.fromEntries(counts.map((count) => [`${count.minute} ${count.type} ${count.category}`, count.count]));
}

const pending = async () => Number((await testDb.db.query<{ n: string | number }>('SELECT count(*) AS n FROM live_counter_deltas'))[0]?.n);

/** Events of the last 90 minutes over a few types and categories, `random` deciding which. */
function someEvents(count: number, random: () => number) {
  const now = Date.now();
  return Array.from({ length: count }, () =>
    trackedEvent({
      timestamp: new Date(now - Math.floor(random() * 90) * MINUTE_MS - Math.floor(random() * 59_000)).toISOString(),
      type: TYPES[Math.floor(random() * TYPES.length)] ?? 'ERROR',
      category: CATEGORIES[Math.floor(random() * CATEGORIES.length)] ?? 'checkout',
      action: random() < 0.5 ? 'click' : 'view',
      value: 1,
    }),
  );
}

/** mulberry32: a small deterministic generator, so a failing run can be repeated. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('the live counters against the Postgres rollups', () => {
  it('count exactly the stored events per minute and hour, by tenant, type and category', async () => {
    const name = await freshTable();
    const store = new DynamoLiveCounters(dynamo.client, name, SETTINGS);
    const events = new PgEventStore(testDb.db);
    const flusher = new LiveCounterFlusher(new PgCounterOutbox(testDb.db), store, SETTINGS);
    const random = seeded(7);

    await events.writeMessages([received(envelope(someEvents(300, random))), received(envelope(someEvents(100, random), { tenantId: TENANT_B }))]);
    const flushed = await flusher.flush();

    expect(flushed.applied).toBeGreaterThan(0);
    expect(await pending()).toBe(0);
    for (const tenant of [TENANT_A, TENANT_B]) {
      for (const granularity of ['minute', 'hour'] as const) expect(await counters(store, tenant, granularity)).toEqual(await rollups(tenant, granularity));
    }
  });

  it('agree after redeliveries, DynamoDB faults, lost answers, writers killed after commit and two flushes at once', async () => {
    const name = await freshTable();
    const random = seeded(42);
    // While flaky, each call may fail before it reaches DynamoDB or after DynamoDB applied it.
    let flaky = false;
    const fault = (): Fault => {
      if (!flaky) return 'none';
      const roll = random();
      return roll < 0.15 ? 'down' : roll < 0.3 ? 'answer-lost' : 'none';
    };
    const real = new DynamoLiveCounters(dynamo.client, name, SETTINGS);
    // Two writers, each with its own containers' state, on one outbox and one table.
    const flushers = [0, 1].map(() => new LiveCounterFlusher(new PgCounterOutbox(testDb.db), new DynamoLiveCounters(faultyClient(dynamo.client, fault), name, SETTINGS), SETTINGS));
    const events = new PgEventStore(testDb.db);
    const sent: TestEnvelope[] = [];
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const metrics = recordMetrics();

    for (let round = 0; round < 40; round++) {
      // A new request, or a redelivery of one written before (SQS at least once, a DLQ replay).
      const redelivery = sent.length > 0 && random() < 0.3;
      const message = redelivery ? (sent[Math.floor(random() * sent.length)] as TestEnvelope) : envelope(someEvents(1 + Math.floor(random() * 40), random), { tenantId: random() < 0.7 ? TENANT_A : TENANT_B });
      if (!redelivery) sent.push(message);
      await events.writeMessages([received(message)]);

      flaky = random() < 0.5;
      // Killed after commit: the flush never runs; the next one finds the deltas.
      if (random() < 0.15) continue;
      if (random() < 0.3) await Promise.all(flushers.map((flusher) => flusher.flush()));
      else await flushers[round % 2]?.flush();
      // Past any pause a failed flush started.
      vi.setSystemTime(Date.now() + 61_000);
    }
    flaky = false;
    while ((await pending()) > 0) await flushers[0]?.flush();

    expect(faultsFired.down).toBeGreaterThan(0);
    expect(faultsFired['answer-lost']).toBeGreaterThan(0);
    expect(metrics.datapoints().filter((point) => point.metric === 'LiveCounterFlushFailed').length).toBeGreaterThan(0);
    for (const tenant of [TENANT_A, TENANT_B]) {
      for (const granularity of ['minute', 'hour'] as const) expect(await counters(real, tenant, granularity)).toEqual(await rollups(tenant, granularity));
    }
    vi.useRealTimers();
  });

  it('keeps the deltas while DynamoDB is down, pauses, and catches up when it is back', async () => {
    const name = await freshTable();
    let down = true;
    const clock = { now: Date.now() };
    const store = new DynamoLiveCounters(faultyClient(dynamo.client, () => (down ? 'down' : 'none')), name, SETTINGS);
    const flusher = new LiveCounterFlusher(new PgCounterOutbox(testDb.db), store, SETTINGS, () => clock.now);
    await new PgEventStore(testDb.db).writeMessages([received(envelope(someEvents(50, seeded(3))))]);
    const before = await pending();

    const failed = await flusher.flush();
    const paused = await flusher.flush();
    down = false;
    clock.now += 1001;
    const caughtUp = await flusher.flush();

    expect(failed).toEqual({ applied: 0, expired: 0, paused: false });
    expect(paused.paused).toBe(true);
    expect(caughtUp.applied).toBe(before);
    expect(await pending()).toBe(0);
    expect(await counters(new DynamoLiveCounters(dynamo.client, name, SETTINGS), TENANT_A, 'minute')).toEqual(await rollups(TENANT_A, 'minute'));
  });

  it('drops deltas older than the TTL without applying them', async () => {
    const name = await freshTable();
    const store = new DynamoLiveCounters(dynamo.client, name, SETTINGS);
    const late = Date.now() + 7 * HOUR_MS;
    const flusher = new LiveCounterFlusher(new PgCounterOutbox(testDb.db), store, SETTINGS, () => late);
    await new PgEventStore(testDb.db).writeMessages([received(envelope([trackedEvent(), trackedEvent({ type: 'ERROR' })]))]);
    const metrics = recordMetrics();

    const outcome = await flusher.flush();

    expect(outcome).toEqual({ applied: 0, expired: 2, paused: false });
    expect(await pending()).toBe(0);
    expect(await counters(store, TENANT_A, 'minute')).toEqual({});
    expect(metrics.datapoints()).toContainEqual({ metric: 'LiveCounterDeltasExpired', dimensions: {}, value: 2 });
  });
});
