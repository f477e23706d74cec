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

let testDb: TestDatabase;
let store: PgEventStore;
let fast: PgEventQueries;
let raw: PgEventQueries;
const onServer = process.env['DATABASE_URL'] !== undefined;
const user = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const day = { startTime: '2026-03-04T00:00:00.000Z', endTime: '2026-03-05T00:00:00.000Z' };

beforeAll(async () => {
  testDb = await createTestDatabase();
  store = new PgEventStore(testDb.db);
  ({ fast, raw } = queryPaths(testDb.db));
});

afterAll(async () => {
  await testDb.drop();
});

const write = (tenantId: string, events: TrackedEvent[]) => store.writeMessages([received(envelope(events, { tenantId }))]);

describe('event sets against the events they were built from', () => {
  it.runIf(onServer)('never keep as valid a set built while the writer added a member it had not numbered', async () => {
    const tenant = 'aaaaaaaa-0000-4000-8000-000000000001';
    const who = { tenantId: tenant, subject: 'tester' };
    await write(tenant, Array.from({ length: 10 }, (_, i) => trackedEvent({ timestamp: `2026-03-04T10:0${i}:00.000Z`, type: 'USER_ACTION', userId: user(i), sessionId: `s${i}` })));
    const late = () => write(tenant, [trackedEvent({ timestamp: '2026-03-04T10:30:00.000Z', type: 'USER_ACTION', userId: user(99), sessionId: 's99' })]);
    const racing = new PgEventQueries(interrupting(testDb.db, 'INSERT INTO event_sets', late), { fastPaths: true, staleEventsReadFromTable: 0 });

    await racing.eventTypes(who, day);
    const query: AggregationQuery = { ...day, granularity: 'day', timezone: 'UTC' };

    expect(await fast.eventTypes(who, day)).toEqual(await raw.eventTypes(who, day));
    expect(await fast.aggregate(who, query)).toEqual(await raw.aggregate(who, query));
  });

  it('answer as the events do after a purge inside a period, and stop rebuilding the purged periods', async () => {
    const tenant = 'bbbbbbbb-0000-4000-8000-000000000002';
    const who = { tenantId: tenant, subject: 'tester' };
    const week = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-07T00:00:00.000Z' };
    await write(tenant, [
      ...Array.from({ length: 20 }, (_, i) => trackedEvent({ timestamp: `2026-03-0${1 + (i % 3)}T12:00:00.000Z`, type: 'ERROR', userId: user(i) })),
      trackedEvent({ timestamp: '2026-03-04T10:10:00.000Z', type: 'PERFORMANCE', value: 5, userId: user(1) }),
      trackedEvent({ timestamp: '2026-03-04T10:50:00.000Z', type: 'PERFORMANCE', value: 7, userId: user(2) }),
    ]);
    await fast.eventTypes(who, week);

    await new PgEventAdmin(testDb.db).purgeOlderThan(who, '2026-03-04T10:30:00.000Z', 100);

    const refresh = vi.spyOn(PgEventSets.prototype, 'refresh');
    for (let read = 0; read < 3; read++) expect(await fast.eventTypes(who, week)).toEqual(await raw.eventTypes(who, week));
    const calls = refresh.mock.calls.length;
    refresh.mockRestore();
    // The first read rebuilds the periods the purge touched; they stay valid from then on.
    expect(calls).toBe(1);
  });

  it.runIf(onServer)('are built once when readers arrive together', async () => {
    const tenant = 'eeeeeeee-0000-4000-8000-000000000005';
    const who = { tenantId: tenant, subject: 'tester' };
    await write(tenant, Array.from({ length: 200 }, (_, i) => trackedEvent({ timestamp: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 3_600_000).toISOString(), type: 'ERROR', userId: user(i) })));
    const range = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-10T00:00:00.000Z' };

    const refresh = vi.spyOn(PgEventSets.prototype, 'refresh');
    await Promise.all([fast.eventTypes(who, range), fast.eventTypes(who, range), fast.eventTypes(who, range)]);
    const rebuilt = await Promise.all(refresh.mock.results.map((result) => result.value as Promise<number>));
    refresh.mockRestore();

    expect(rebuilt.reduce((sum, periods) => sum + periods, 0)).toBe(9);
  });
});
