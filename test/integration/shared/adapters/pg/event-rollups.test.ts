import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { correctRollupsAfterPurge } from '../../../../../lambdas/shared/adapters/pg/event-rollups.js';
import { PgEventAdmin } from '../../../../../lambdas/shared/adapters/pg/pg-event-admin.js';
import { PgEventQueries } from '../../../../../lambdas/shared/adapters/pg/pg-event-queries.js';
import { PgEventStore } from '../../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import type { SqlDatabase } from '../../../../../lambdas/shared/adapters/pg/sql-database.js';
import { inTenantTransaction } from '../../../../../lambdas/shared/adapters/pg/tenant-transaction.js';
import type { EventType, TrackedEvent } from '../../../../../lambdas/shared/domain/event-schemas.js';
import type { AggregationQuery, GroupByField } from '../../../../../lambdas/shared/domain/query-schemas.js';
import { envelope, received, trackedEvent } from '../../../../support/factories.js';
import { interrupting } from '../../../../support/interrupting-database.js';
import { queryPaths } from '../../../../support/query-paths.js';
import { rollupMismatches } from '../../../../support/rollup-check.js';
import { createTestDatabase, type TestDatabase } from '../../../../support/test-database.js';

let testDb: TestDatabase;
let store: PgEventStore;
let fast: PgEventQueries;
let raw: PgEventQueries;
const onServer = process.env['DATABASE_URL'] !== undefined;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Three days of events; cut-offs fall anywhere in them, on minute, hour and day edges or between. */
const FROM = Date.parse('2026-03-02T00:00:00Z');
const SPAN = 3 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
const TYPES: EventType[] = ['USER_ACTION', 'PERFORMANCE', 'ERROR'];
const USERS = Array.from({ length: 6 }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);
/** The work is bounded by the number of runs, not by a clock: two loaded cores may be slow. */
const RUNS = 8;

beforeAll(async () => {
  testDb = await createTestDatabase();
  store = new PgEventStore(testDb.db, { setKeepingMs: 0 });
  ({ fast, raw } = queryPaths(testDb.db));
});

afterAll(async () => {
  await testDb.drop();
});

/** This tenant's only: a shrunk counterexample is not blamed for an earlier run's rows. */
const mismatchesOf = async (tenantId: string) => (await rollupMismatches(testDb.db)).filter((row) => (row as { tenant_id: string }).tenant_id === tenantId);

const eventAt = fc
  .record({
    at: fc.integer({ min: 0, max: SPAN - 1 }),
    type: fc.constantFrom(...TYPES),
    category: fc.constantFrom('checkout', 'search'),
    action: fc.constantFrom('view', 'click'),
    value: fc.integer({ min: 0, max: 10_000 }),
    user: fc.option(fc.constantFrom(...USERS), { nil: null }),
    session: fc.constantFrom('s0', 's1', 's2', 's3'),
  })
  .map(({ at, type, category, action, value, user, session }) =>
    trackedEvent({ timestamp: iso(FROM + at), type, category, action, value: type === 'PERFORMANCE' ? value / 10 : null, userId: user, sessionId: session }),
  );

/** Anywhere in the span, or on the edge of its minute, hour or day. */
const cutoff = fc
  .tuple(fc.integer({ min: 0, max: SPAN }), fc.constantFrom(1, MINUTE, HOUR, DAY))
  .map(([at, edge]) => iso(FROM + Math.floor(at / edge) * edge));

const sample = fc.record({
  deliveries: fc.array(fc.array(eventAt, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 3 }),
  cutoff,
  // Events older than the cut-off that arrive once it is done (a queue's backlog, a DLQ replay).
  late: fc.array(eventAt, { maxLength: 6 }),
  granularityZones: fc.array(fc.constantFrom('UTC', 'America/New_York', 'Asia/Kolkata'), { minLength: 5, maxLength: 5 }),
  groupBys: fc.array(fc.constantFrom<GroupByField[]>([], ['event_type'], ['category'], ['event_type', 'category', 'action'], ['user_id']), { minLength: 5, maxLength: 5 }),
});

/** Every kind of read over `range`, on the fast paths and in plain SQL. */
async function everyRead(tenantId: string, range: { startTime: string; endTime: string }, zones: string[], groupBys: GroupByField[][]) {
  const who = { tenantId, subject: 'tester' };
  const page = { limit: 5, offset: 0, order: 'desc' as const };
  const reads: Array<[string, (queries: PgEventQueries) => Promise<unknown>]> = [
    ['find', (queries) => queries.findEvents(who, range, page)],
    ['find by type and category', (queries) => queries.findEvents(who, { ...range, eventTypes: ['ERROR'], categories: ['search'] }, page)],
    ['event types', (queries) => queries.eventTypes(who, range)],
    ...(['minute', 'hour', 'day', 'week', 'month'] as const).flatMap((granularity, index): Array<[string, (queries: PgEventQueries) => Promise<unknown>]> => {
      const query: AggregationQuery = { ...range, granularity, timezone: zones[index] ?? 'UTC', groupBy: groupBys[index] ?? [] };
      return [
        [JSON.stringify(query), (queries) => queries.aggregate(who, query)],
        [`${JSON.stringify(query)} by category`, (queries) => queries.aggregate(who, { ...query, categories: ['checkout'] })],
      ];
    }),
  ];
  const answers = [];
  for (const [what, read] of reads) answers.push({ what, fast: await read(fast), raw: await read(raw) });
  return answers;
}

describe('rollups and event sets after a purge', () => {
  it('answer every read as the plain SQL does, whatever the cut-off, on random data', async () => {
    await fc.assert(
      fc.asyncProperty(sample, async ({ deliveries, cutoff, late, granularityZones, groupBys }) => {
        const tenantId = randomUUID();
        const who = { tenantId, subject: 'tester' };
        // A range whose edges fall inside hours, so that partial hours, whole hours and whole days are all read.
        const range = { startTime: iso(FROM - DAY + 17 * MINUTE), endTime: iso(FROM + SPAN + 5 * HOUR + 3 * MINUTE) };
        for (const events of deliveries) await store.writeMessages([received(envelope(events, { tenantId }))]);
        // Sets built before the purge, as a dashboard would have.
        await fast.eventTypes(who, range);
        await fast.aggregate(who, { ...range, granularity: 'day', timezone: 'UTC', groupBy: ['event_type'] });

        const deleted = await new PgEventAdmin(testDb.db).purgeOlderThan(who, cutoff, 7);
        // Spread over the day before the span up to the cut-off.
        const scale = (Date.parse(cutoff) - FROM + DAY) / SPAN;
        const older = late.map((event) => ({ ...event, timestamp: iso(FROM - DAY + Math.floor((Date.parse(event.timestamp) - FROM) * scale)) }));
        if (older.length > 0) await store.writeMessages([received(envelope(older, { tenantId }))]);

        expect(deleted).toBe(deliveries.flat().filter((event) => event.timestamp < cutoff).length);
        for (const answer of await everyRead(tenantId, range, granularityZones, groupBys)) expect(answer.fast, answer.what).toEqual(answer.raw);
        expect(await mismatchesOf(tenantId)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('corrects the rollups of a dropped partition: every period before its end, none after', async () => {
    const tenantId = randomUUID();
    const times = ['2026-01-31T23:59:00.000Z', '2026-02-01T00:00:00.000Z', '2026-02-01T00:30:00.000Z'];
    await store.writeMessages([received(envelope(times.map((timestamp) => trackedEvent({ timestamp })), { tenantId }))]);
    // As the retention job leaves it: January's events gone without a DELETE of theirs.
    await testDb.db.exec('ALTER TABLE analytics_events DETACH PARTITION analytics_events_2026_01; DROP TABLE analytics_events_2026_01');

    await inTenantTransaction(testDb.db, tenantId, (session) => correctRollupsAfterPurge(session, tenantId, '2026-02-01T00:00:00.000Z'));

    expect(await rollupMismatches(testDb.db)).toEqual([]);
    const left = await testDb.db.query<{ granularity: string; n: number }>('SELECT granularity, count(*)::int AS n FROM event_rollups WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1', [tenantId]);
    // February's two minutes, its hour and its day, per category and action and per type.
    expect(left).toEqual([
      { granularity: 'day', n: 1 },
      { granularity: 'hour', n: 1 },
      { granularity: 'minute', n: 2 },
      { granularity: 'type_day', n: 1 },
      { granularity: 'type_hour', n: 1 },
    ]);
  });

  it.runIf(onServer)('keeps the rollups true when the writer adds events to the purged periods while the correction runs', async () => {
    const tenantId = randomUUID();
    const who = { tenantId, subject: 'tester' };
    const cut = '2026-03-03T12:30:00.000Z';
    await store.writeMessages([received(envelope([trackedEvent({ timestamp: '2026-03-03T12:10:00.000Z' }), trackedEvent({ timestamp: '2026-03-03T12:40:00.000Z' })], { tenantId }))]);
    // Late events with new rollup rows: in a wholly purged hour, and in the minute, hour and day the cut-off falls in.
    const lateEvents = ['2026-03-02T05:00:00.000Z', '2026-03-03T12:30:30.000Z', '2026-03-03T12:45:00.000Z'].map((timestamp) => trackedEvent({ timestamp, action: 'late' }));
    let writing: Promise<unknown> = Promise.resolve();
    const racing = interrupting(testDb.db, 'INSERT INTO event_rollups (tenant_id', async () => {
      writing = store.writeMessages([received(envelope(lateEvents, { tenantId }))]);
      await untilBlockedOrDone(testDb.db, writing);
    });

    await new PgEventAdmin(racing).purgeOlderThan(who, cut, 100);
    await writing;

    expect(await rollupMismatches(testDb.db)).toEqual([]);
    const range = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-05T00:00:00.000Z' };
    for (const answer of await everyRead(tenantId, range, ['UTC', 'UTC', 'UTC', 'UTC', 'UTC'], [[], ['event_type'], [], [], ['event_type']])) expect(answer.fast, answer.what).toEqual(answer.raw);
  });
});

/** Resolves once `work` is done or another connection waits for a lock (the writer, behind the purge's correction). */
async function untilBlockedOrDone(db: SqlDatabase, work: Promise<unknown>): Promise<void> {
  let done = false;
  void work.finally(() => {
    done = true;
  });
  while (!done) {
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if ((row?.n ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
