import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PgEventAdmin } from '../../../../../lambdas/shared/adapters/pg/pg-event-admin.js';
import { PgEventQueries } from '../../../../../lambdas/shared/adapters/pg/pg-event-queries.js';
import { PgEventSets } from '../../../../../lambdas/shared/adapters/pg/pg-event-sets.js';
import { PgEventStore } from '../../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import type { TrackedEvent } from '../../../../../lambdas/shared/domain/event-schemas.js';
import type { AggregationQuery } from '../../../../../lambdas/shared/domain/query-schemas.js';
import { envelope, received, trackedEvent } from '../../../../support/factories.js';
import { interrupting } from '../../../../support/interrupting-database.js';
import { queryPaths } from '../../../../support/query-paths.js';
import { createTestDatabase, type TestDatabase } from '../../../../support/test-database.js';
import { inTenantTransaction } from '../../../../../lambdas/shared/adapters/pg/tenant-transaction.js';

let testDb: TestDatabase;
let store: PgEventStore;
let fast: PgEventQueries;
let raw: PgEventQueries;
const onServer = process.env['DATABASE_URL'] !== undefined;
const user = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const day = { startTime: '2026-03-04T00:00:00.000Z', endTime: '2026-03-05T00:00:00.000Z' };

beforeAll(async () => {
  testDb = await createTestDatabase();
  store = new PgEventStore(testDb.db, { setKeepingMs: 0 });
  ({ fast, raw } = queryPaths(testDb.db));
});

afterAll(async () => {
  await testDb.drop();
});

const write = (tenantId: string, events: TrackedEvent[]) => store.writeMessages([received(envelope(events, { tenantId }))]);
/** A writer that leaves the sets to the test. */
const writeOnly = (tenantId: string, events: TrackedEvent[]) => new PgEventStore(testDb.db, { keepSets: false }).writeMessages([received(envelope(events, { tenantId }))]);
const touched = (range: { startTime: string; endTime: string }) => ({ from: Date.parse(range.startTime), to: Date.parse(range.endTime) });

describe('event sets against the events they were built from', () => {
  it.runIf(onServer)('never keep as valid a set built while the writer added a member it had not numbered', async () => {
    const tenant = 'aaaaaaaa-0000-4000-8000-000000000001';
    const who = { tenantId: tenant, subject: 'tester' };
    await writeOnly(tenant, Array.from({ length: 10 }, (_, i) => trackedEvent({ timestamp: `2026-03-04T10:0${i}:00.000Z`, type: 'USER_ACTION', userId: user(i), sessionId: `s${i}` })));
    const late = () => writeOnly(tenant, [trackedEvent({ timestamp: '2026-03-04T10:30:00.000Z', type: 'USER_ACTION', userId: user(99), sessionId: 's99' })]);

    await new PgEventSets(interrupting(testDb.db, 'INSERT INTO event_sets', late)).keep(tenant, touched(day));
    const query: AggregationQuery = { ...day, granularity: 'day', timezone: 'UTC' };

    expect(await fast.eventTypes(who, day)).toEqual(await raw.eventTypes(who, day));
    expect(await fast.aggregate(who, query)).toEqual(await raw.aggregate(who, query));
    // The set built beside the late member is never valid: the next keeping builds it again.
    expect(await new PgEventSets(testDb.db).keep(tenant, touched(day))).toBeGreaterThan(0);
  });

  it('answer as the events do after a purge inside a period, and are kept again by the purge', async () => {
    const tenant = 'bbbbbbbb-0000-4000-8000-000000000002';
    const who = { tenantId: tenant, subject: 'tester' };
    const week = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-07T00:00:00.000Z' };
    await write(tenant, [
      ...Array.from({ length: 20 }, (_, i) => trackedEvent({ timestamp: `2026-03-0${1 + (i % 3)}T12:00:00.000Z`, type: 'ERROR', userId: user(i) })),
      trackedEvent({ timestamp: '2026-03-04T10:10:00.000Z', type: 'PERFORMANCE', value: 5, userId: user(1) }),
      trackedEvent({ timestamp: '2026-03-04T10:50:00.000Z', type: 'PERFORMANCE', value: 7, userId: user(2) }),
    ]);
    expect(await new PgEventSets(testDb.db).keep(tenant, touched(week))).toBe(0);

    await new PgEventAdmin(testDb.db).purgeOlderThan(who, '2026-03-04T10:30:00.000Z', 100);

    for (let read = 0; read < 3; read++) expect(await fast.eventTypes(who, week)).toEqual(await raw.eventTypes(who, week));
    // The purge kept the sets of the periods it cut into: nothing is left stale.
    expect(await new PgEventSets(testDb.db).keep(tenant, touched(week))).toBe(0);
  });

  it('never build a set on a read', async () => {
    const tenant = 'cccccccc-0000-4000-8000-000000000003';
    const who = { tenantId: tenant, subject: 'tester' };
    const week = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-07T00:00:00.000Z' };
    await writeOnly(tenant, Array.from({ length: 40 }, (_, i) => trackedEvent({ timestamp: `2026-03-0${1 + (i % 5)}T0${i % 10}:00:00.000Z`, type: 'ERROR', userId: user(i) })));
    const keep = vi.spyOn(PgEventSets.prototype, 'keep');
    // Few stale events are read from the table beside the sets; many, the plain path answers.
    const strict = new PgEventQueries(testDb.db, { fastPaths: true, staleEventsReadFromTable: 0 });

    for (const reader of [fast, strict]) {
      expect(await reader.eventTypes(who, week)).toEqual(await raw.eventTypes(who, week));
      expect(await reader.aggregate(who, { ...week, granularity: 'day', timezone: 'UTC', groupBy: ['event_type'] })).toEqual(await raw.aggregate(who, { ...week, granularity: 'day', timezone: 'UTC', groupBy: ['event_type'] }));
    }
    const built = await inTenantTransaction(testDb.db, tenant, (session) => session.query<{ n: number }>('SELECT count(*)::int AS n FROM event_sets'));
    keep.mockRestore();

    expect(keep).not.toHaveBeenCalled();
    expect(built[0]?.n).toBe(0);
  });

  it.runIf(onServer)('are built once when writers keep them together', async () => {
    const tenant = 'eeeeeeee-0000-4000-8000-000000000005';
    await writeOnly(tenant, Array.from({ length: 200 }, (_, i) => trackedEvent({ timestamp: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 3_600_000).toISOString(), type: 'ERROR', userId: user(i) })));
    const range = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-09T07:00:00.000Z' };

    const sets = new PgEventSets(testDb.db);
    const rebuilt = await Promise.all([sets.keep(tenant, touched(range)), sets.keep(tenant, touched(range)), sets.keep(tenant, touched(range))]);

    // 200 hours and the 9 days they fall in, each built by one of the three.
    expect(rebuilt.reduce((sum, periods) => sum + periods, 0)).toBe(209);
  });

  it('keep their lags sorted with marks, read them by windows, and answer as the events do; sets built before the marks are read whole and rebuilt', async () => {
    const tenant = 'abababab-0000-4000-8000-000000000007';
    const who = { tenantId: tenant, subject: 'tester' };
    const range = { startTime: '2026-03-03T06:30:00.000Z', endTime: '2026-03-05T18:45:00.000Z' };
    const start = Date.parse('2026-03-03T00:00:00.000Z');
    const now = Date.now();
    // Lags of 0-20 s with repeats, in no order, over three days and two types.
    await write(
      tenant,
      Array.from({ length: 3_000 }, (_, i) =>
        trackedEvent({ timestamp: new Date(start + i * 86_400).toISOString(), type: i % 3 === 0 ? 'ERROR' : 'USER_ACTION', userId: user(i % 50), receivedAt: new Date(now - ((i * 7_919) % 20_000)).toISOString() }),
      ),
    );
    const lagSets = () =>
      inTenantTransaction(testDb.db, tenant, (session) =>
        session.query<{ lags_ms: Uint8Array; lag_marks: Uint8Array | null }>(`SELECT lags_ms, lag_marks FROM event_sets WHERE granularity IN ('hour', 'day')`),
      );
    const values = (bytes: Uint8Array) => Array.from({ length: bytes.byteLength / 8 }, (_, i) => Buffer.from(bytes).readDoubleBE(i * 8));

    const built = await lagSets();
    const days = built.filter((set) => set.lags_ms.byteLength > 32 * 8);

    expect(days.length).toBeGreaterThan(0);
    for (const set of built) {
      const lags = values(set.lags_ms);
      expect(lags).toEqual([...lags].sort((a, b) => a - b));
      expect(values(set.lag_marks ?? new Uint8Array())).toEqual(lags.filter((_, i) => i % 32 === 0));
    }
    expect(await fast.eventTypes(who, range)).toEqual(await raw.eventTypes(who, range));

    // As migration 0021 found the sets built before it: no marks, lags unsorted.
    await inTenantTransaction(testDb.db, tenant, (session) =>
      session.query(
        `UPDATE event_sets SET lag_marks = NULL, lags_ms = coalesce((SELECT string_agg(substring(lags_ms FROM i * 8 + 1 FOR 8), '' ORDER BY i DESC) FROM generate_series(0, length(lags_ms) / 8 - 1) AS i), ''::bytea)
         WHERE granularity IN ('hour', 'day')`,
      ),
    );
    expect(await fast.eventTypes(who, range)).toEqual(await raw.eventTypes(who, range));
    expect(await new PgEventSets(testDb.db).keep(tenant, { from: start, to: start + 3 * 86_400_000 })).toBeGreaterThan(0);
    expect((await lagSets()).every((set) => set.lag_marks !== null)).toBe(true);
    expect(await fast.eventTypes(who, range)).toEqual(await raw.eventTypes(who, range));
  });

  it('probe the member dictionary by its key before it has statistics', async () => {
    // A dictionary never analyzed: new, truncated, or on a server without autovacuum.
    const fresh = await createTestDatabase();
    try {
      const tenant = 'ffffffff-0000-4000-8000-000000000006';
      await new PgEventStore(fresh.db, { setKeepingMs: 0 }).writeMessages([
        received(envelope(Array.from({ length: 50 }, (_, i) => trackedEvent({ timestamp: '2026-03-04T10:00:00.000Z', userId: user(i), sessionId: `s${i}` })), { tenantId: tenant })),
      ]);
      const plan = await inTenantTransaction(fresh.db, tenant, async (session) => {
        const [{ never } = { never: false }] = await session.query<{ never: boolean }>(`SELECT reltuples < 0 AS never FROM pg_class WHERE relname = 'set_members'`);
        const lines = await session.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT number FROM set_members WHERE tenant_id = $1 AND kind = 'u' AND member = $2`, [tenant, user(7)]);
        return { never, text: lines.map((line) => line['QUERY PLAN']).join('\n') };
      });

      expect(plan.never).toBe(true);
      // The (tenant, kind, number) index once tied with the key here: each probe walked the dictionary.
      expect(plan.text).toMatch(/Index Scan using set_members_pkey on set_members[^\n]*\n\s+Index Cond: [^\n]*\(member = /);
    } finally {
      await fresh.drop();
    }
  });
});
