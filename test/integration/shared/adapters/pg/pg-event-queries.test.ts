import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgEventQueries } from '../../../../../lambdas/shared/adapters/pg/pg-event-queries.js';
import { dayFiguresByKey, PgEventSets, readMemberPieces } from '../../../../../lambdas/shared/adapters/pg/pg-event-sets.js';
import { PgEventStore } from '../../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { figuresByGroup } from '../../../../../lambdas/shared/domain/distinct-sets.js';
import { splitForRollups } from '../../../../../lambdas/shared/domain/rollup-ranges.js';
import type { EventType, TrackedEvent } from '../../../../../lambdas/shared/domain/event-schemas.js';
import type { AggregationQuery, GroupByField } from '../../../../../lambdas/shared/domain/query-schemas.js';
import { inTenantTransaction } from '../../../../../lambdas/shared/adapters/pg/tenant-transaction.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent } from '../../../../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../../../../support/test-database.js';

let testDb: TestDatabase;
let fast: PgEventQueries;
let lazy: PgEventQueries;
let raw: PgEventQueries;

/** A seeded generator (mulberry32): a failing case can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const random = seeded(20261126);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const DAY = 86_400_000;
// Ten days across the New York DST change of 2026-03-08, so zone buckets are 23, 24 and 25 hours long.
const FROM = Date.parse('2026-03-02T00:00:00Z');
const TYPES: EventType[] = ['USER_ACTION', 'PERFORMANCE', 'ERROR', 'BUSINESS'];
const USERS = Array.from({ length: 12 }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);

function randomEvent(): TrackedEvent {
  const type = pick(TYPES);
  return trackedEvent({
    timestamp: new Date(FROM + Math.floor(random() * 10 * DAY)).toISOString(),
    type,
    category: pick(['checkout', 'search', 'auth']),
    action: pick(['view', 'click', 'fail']),
    value: type === 'PERFORMANCE' || (type === 'BUSINESS' && random() < 0.7) ? Math.round(random() * 100_000) / 100 : null,
    userId: random() < 0.9 ? pick(USERS) : null,
    sessionId: `s${Math.floor(random() * 30)}`,
    properties: { plan: pick(['free', 'pro']), cart: { items: pick([1, 2, 3]) }, tags: pick([['a'], ['a', 'b'], []]) },
  });
}

/** A range whose edges fall inside hours, so that both partial-hour pieces and whole days are used. */
function randomRange(): { startTime: string; endTime: string } {
  const start = FROM - DAY + Math.floor(random() * 5 * DAY);
  return { startTime: new Date(start).toISOString(), endTime: new Date(start + Math.floor(random() * 7 * DAY) + 60_000).toISOString() };
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  // Stale periods are read from the events beside the sets, never by the plain path: both halves of the set path are checked.
  fast = new PgEventQueries(testDb.db, { fastPaths: true, staleEventsReadFromTable: Number.POSITIVE_INFINITY });
  lazy = new PgEventQueries(testDb.db);
  raw = new PgEventQueries(testDb.db, { fastPaths: false });
  // Keeps the sets after every write, as a writer does at most every 10 s.
  const store = new PgEventStore(testDb.db, { setKeepingMs: 0 });
  // Several deliveries, as the writer sees them: rollup rows are updated, not only inserted.
  for (let delivery = 0; delivery < 4; delivery++) {
    await store.writeMessages([received(envelope(Array.from({ length: 150 }, randomEvent)))]);
  }
  // Another tenant in the same buckets: its rollups must never reach tenant A's answers.
  await store.writeMessages([received(envelope(Array.from({ length: 200 }, randomEvent), { tenantId: TENANT_B }))]);
});

afterAll(async () => {
  await testDb.drop();
});

const who = { tenantId: TENANT_A, subject: 'tester' };

describe('PgEventQueries from rollups and from events', () => {
  it('aggregate the same numbers on random data, for every granularity, zone and groupBy', async () => {
    const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Europe/London', 'Asia/Kolkata'];
    const groupings: GroupByField[][] = [[], ['event_type'], ['category', 'action'], ['event_type', 'category', 'action'], ['user_id']];
    const filters = [{}, { eventTypes: ['PERFORMANCE', 'BUSINESS'] as EventType[] }, { categories: ['checkout'], actions: ['view', 'fail'] }];
    let compared = 0;
    for (const granularity of ['minute', 'hour', 'day', 'week', 'month'] as const) {
      for (const timezone of zones) {
        const query: AggregationQuery = { ...randomRange(), granularity, timezone, groupBy: pick(groupings), ...pick(filters) };

        const [fromRollups, fromEvents] = await Promise.all([fast.aggregate(who, query), raw.aggregate(who, query)]);

        expect(fromRollups, JSON.stringify(query)).toEqual(fromEvents);
        compared += fromEvents.data.length;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('aggregate the same local days and weeks when the first one began before a DST change', async () => {
    // London went back to GMT at 01:00Z on 2026-10-25: that local day began at 23:00Z the day before.
    const times = ['2026-10-24T23:30:00Z', '2026-10-25T03:00:00Z', '2026-10-25T22:00:00Z', '2026-10-26T12:00:00Z'];
    await new PgEventStore(testDb.db).writeMessages([received(envelope(times.map((timestamp) => trackedEvent({ timestamp }))))]);
    for (const granularity of ['day', 'week'] as const) {
      const query: AggregationQuery = { startTime: '2026-10-25T02:00:00.000Z', endTime: '2026-10-26T23:00:00.000Z', granularity, timezone: 'Europe/London' };

      const fromRollups = await fast.aggregate(who, query);

      expect(fromRollups, granularity).toEqual(await raw.aggregate(who, query));
      expect(fromRollups.data[0]?.period, granularity).toBe(granularity === 'day' ? '2026-10-24T23:00:00.000Z' : '2026-10-18T23:00:00.000Z');
    }
  });

  it('aggregate the same numbers over ranges on exact hour and day edges', async () => {
    const edges = [
      { startTime: '2026-03-03T00:00:00.000Z', endTime: '2026-03-06T00:00:00.000Z' },
      { startTime: '2026-03-03T05:00:00.000Z', endTime: '2026-03-05T23:59:59.999Z' },
      { startTime: '2026-03-04T10:15:00.000Z', endTime: '2026-03-04T10:45:00.000Z' },
    ];
    for (const range of edges) {
      for (const timezone of ['UTC', 'America/New_York']) {
        const query: AggregationQuery = { ...range, granularity: 'day', timezone, groupBy: ['event_type'] };
        expect(await fast.aggregate(who, query), JSON.stringify(query)).toEqual(await raw.aggregate(who, query));
      }
    }
  });

  it('count the same total for pages, with and without filters the rollups lack', async () => {
    for (let run = 0; run < 12; run++) {
      const filters = { ...randomRange(), ...pick([{}, { eventTypes: ['USER_ACTION'] as EventType[], categories: ['search'] }, { userId: pick(USERS) }]) };
      const page = { limit: 5, offset: 0, order: 'desc' as const };

      const [fromRollups, fromEvents] = await Promise.all([fast.findEvents(who, filters, page), raw.findEvents(who, filters, page)]);

      expect(fromRollups.total, JSON.stringify(filters)).toBe(fromEvents.total);
      expect(fromRollups.events).toEqual(fromEvents.events);
    }
  });

  it('counts only the tenant of the caller from the rollups', async () => {
    const everything = { startTime: '2026-02-01T00:00:00.000Z', endTime: '2026-04-01T00:00:00.000Z' };
    const page = { limit: 1, offset: 0, order: 'desc' as const };

    const [a, b] = await Promise.all([fast.findEvents(who, everything, page), fast.findEvents({ ...who, tenantId: TENANT_B }, everything, page)]);
    const aggregate = await fast.aggregate(who, { ...everything, granularity: 'month', timezone: 'UTC' });

    expect(a.total).toBe(600);
    expect(b.total).toBe(200);
    expect(aggregate.data.reduce((sum, row) => sum + row.count, 0)).toBe(600);
  });
});

describe('the time range', () => {
  const edgeTenant = { tenantId: '33333333-3333-4333-8333-333333333333', subject: 'tester' };
  const startTime = '2026-05-04T00:00:00.000Z';
  // One end on an hour (and day) edge, where the rollups stop; one inside an hour.
  const ends = ['2026-05-06T00:00:00.000Z', '2026-05-05T10:30:00.000Z'];
  const later = (iso: string) => new Date(Date.parse(iso) + 1).toISOString();
  const times = [new Date(Date.parse(startTime) - 1).toISOString(), startTime, ...ends, ...ends.map(later)];

  beforeAll(async () => {
    const events = times.map((timestamp) => trackedEvent({ timestamp, properties: { edge: true } }));
    await new PgEventStore(testDb.db).writeMessages([received(envelope(events, { tenantId: edgeTenant.tenantId }))]);
  });

  it('includes events at exactly startTime and endTime in pages, totals, aggregates and the event-types summary, on every path', async () => {
    for (const endTime of ends) {
      const inRange = times.filter((time) => time >= startTime && time <= endTime).sort();
      for (const [name, queries] of Object.entries({ fast, lazy, raw })) {
        const what = `${name}, ${startTime} .. ${endTime}`;
        const range = { startTime, endTime };
        const page = await queries.findEvents(edgeTenant, range, { limit: 10, offset: 0, order: 'asc' });
        const filtered = await queries.findEvents(edgeTenant, { ...range, properties: { edge: true } }, { limit: 10, offset: 0, order: 'asc' });
        const hours = await queries.aggregate(edgeTenant, { ...range, granularity: 'hour', timezone: 'UTC' });
        const days = await queries.aggregate(edgeTenant, { ...range, granularity: 'day', timezone: 'UTC' });
        const types = await queries.eventTypes(edgeTenant, range);

        expect(page.events.map((event) => event.timestamp), what).toEqual(inRange);
        expect(page.total, what).toBe(inRange.length);
        expect(filtered.total, what).toBe(inRange.length);
        expect(hours.data.reduce((sum, row) => sum + row.count, 0), what).toBe(inRange.length);
        expect(days.data.reduce((sum, row) => sum + row.count, 0), what).toBe(inRange.length);
        expect(types.reduce((sum, row) => sum + row.count, 0), what).toBe(inRange.length);
      }
    }
  });
});

describe('unique users, sessions and percentiles from the event sets', () => {
  const TENANT_C = '33333333-3333-4333-8333-333333333333';
  const whoC = { tenantId: TENANT_C, subject: 'tester' };

  it('aggregate the same numbers as the events, for every granularity and zone the sets serve', async () => {
    let compared = 0;
    for (const granularity of ['hour', 'day', 'week', 'month'] as const) {
      for (const timezone of ['UTC', 'America/New_York', 'Europe/London']) {
        for (const groupBy of [[], ['event_type']] as GroupByField[][]) {
          const query: AggregationQuery = { ...randomRange(), granularity, timezone, groupBy, ...pick([{}, { eventTypes: ['PERFORMANCE', 'USER_ACTION'] as EventType[] }]) };

          const [fromSets, fromEvents] = await Promise.all([fast.aggregate(who, query), raw.aggregate(who, query)]);

          expect(fromSets, JSON.stringify(query)).toEqual(fromEvents);
          compared += fromEvents.data.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(200);
  });

  it('aggregate UTC days grouped by category or action as the events do, from the sets per day and key', async () => {
    const groupings: GroupByField[][] = [['category'], ['action'], ['category', 'action'], ['event_type', 'category', 'action']];
    let compared = 0;
    for (let round = 0; round < 8; round++) {
      const query: AggregationQuery = { ...randomRange(), granularity: 'day', timezone: 'UTC', groupBy: pick(groupings), ...pick([{}, { eventTypes: ['PERFORMANCE', 'USER_ACTION'] as EventType[] }]) };

      const [fromSets, fromEvents] = await Promise.all([fast.aggregate(who, query), raw.aggregate(who, query)]);

      expect(fromSets, JSON.stringify(query)).toEqual(fromEvents);
      compared += fromEvents.data.length;
    }
    expect(compared).toBeGreaterThan(100);
    // Every whole day from the sets (a stale one would throw with no events allowed), the partial days from the events.
    const query: AggregationQuery = { startTime: '2026-03-02T09:30:00.000Z', endTime: '2026-03-09T12:34:00.000Z', granularity: 'day', timezone: 'UTC', groupBy: ['category'] };
    const figures = await inTenantTransaction(testDb.db, TENANT_A, (session) =>
      dayFiguresByKey(session, TENANT_A, query, splitForRollups(query, true), { bucket: () => (column) => `date_bin('1 day', ${column}, '2000-01-01T00:00:00Z')`, groupBy: ['category'], keyOf: (bucket, row) => `${bucket} ${row.category}`, staleLimit: 0 }),
    );
    expect(figures.size).toBe(8 * 3);
  });

  it('summarise event types as the events do, over random ranges and exact edges', async () => {
    const ranges = [
      ...Array.from({ length: 6 }, randomRange),
      { startTime: '2026-03-03T00:00:00.000Z', endTime: '2026-03-06T00:00:00.000Z' },
      { startTime: '2026-03-04T10:15:00.000Z', endTime: '2026-03-04T10:45:00.000Z' },
    ];
    for (const range of ranges) {
      const [fromSets, fromEvents] = await Promise.all([fast.eventTypes(who, range), raw.eventTypes(who, range)]);

      expect(fromSets, JSON.stringify(range)).toEqual(fromEvents);
    }
  });

  it('were kept by the writer for every settled period it wrote', async () => {
    expect(await new PgEventSets(testDb.db).keep(TENANT_A, { from: FROM, to: FROM + 10 * DAY })).toBe(0);
  });

  it('are built once by the writer, and reads count late events of their period until it keeps them again', async () => {
    const sets = new PgEventSets(testDb.db);
    const inDay = (day: number) => () => ({
      ...randomEvent(),
      timestamp: new Date(Date.parse(`2026-03-0${day}T00:00:00Z`) + Math.floor(random() * DAY)).toISOString(),
      userId: `00000000-0000-4000-9000-${String(Math.floor(random() * 1_000_000)).padStart(12, '0')}`,
    });
    await new PgEventStore(testDb.db, { setKeepingMs: 0 }).writeMessages([received(envelope(Array.from({ length: 120 }, inDay(4)), { tenantId: TENANT_C }))]);
    const query: AggregationQuery = { startTime: '2026-03-02T09:30:00.000Z', endTime: '2026-03-06T12:34:00.000Z', granularity: 'day', timezone: 'UTC', groupBy: ['event_type'] };
    const split = splitForRollups(query, true);
    const range = { from: Date.parse(query.startTime), to: Date.parse(query.endTime) };
    const before = await fast.aggregate(whoC, query);

    expect(await sets.keep(TENANT_C, range)).toBe(0);
    await new PgEventStore(testDb.db, { keepSets: false }).writeMessages([received(envelope(Array.from({ length: 30 }, inDay(4)), { tenantId: TENANT_C }))]);
    // Stale in the read itself: its events are read one by one.
    const pieces = await inTenantTransaction(testDb.db, TENANT_C, (session) => readMemberPieces(session, TENANT_C, query, split, { bucket: null, groupOf: (_bucket, type) => type, reads: [], staleLimit: null }));
    const types = await raw.eventTypes(whoC, query);
    for (const type of types) {
      expect(figuresByGroup(pieces).get(type.type), type.type).toMatchObject({ eventCount: type.count, uniqueUsers: type.uniqueUsers });
    }
    const after = await fast.aggregate(whoC, query);
    const byCategory: AggregationQuery = { ...query, groupBy: ['category', 'action'] };

    expect(after).toEqual(await raw.aggregate(whoC, query));
    expect(await fast.aggregate(whoC, byCategory)).toEqual(await raw.aggregate(whoC, byCategory));
    expect(after.summary.totalEvents).toBe(before.summary.totalEvents + 30);
    expect(after.summary.uniqueUsers).toBeGreaterThan(before.summary.uniqueUsers);
    // The late events' hours and day, built again once.
    expect(await sets.keep(TENANT_C, range)).toBeGreaterThan(0);
    expect(await sets.keep(TENANT_C, range)).toBe(0);
    expect(await fast.aggregate(whoC, query)).toEqual(after);
    expect(await fast.aggregate(whoC, byCategory)).toEqual(await raw.aggregate(whoC, byCategory));
  });

  it('answer from the events when many are stale, and never build on a read', async () => {
    const tenant = '55555555-5555-4555-8555-555555555555';
    const whoE = { tenantId: tenant, subject: 'tester' };
    await new PgEventStore(testDb.db, { keepSets: false }).writeMessages([received(envelope(Array.from({ length: 100 }, randomEvent), { tenantId: tenant }))]);
    const range = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-13T00:00:00.000Z' };
    const query: AggregationQuery = { ...range, granularity: 'day', timezone: 'UTC', groupBy: ['event_type'] };
    const sets = async () => (await inTenantTransaction(testDb.db, tenant, (session) => session.query<{ n: number }>('SELECT count(*)::int AS n FROM event_sets')))[0]?.n;
    const strict = new PgEventQueries(testDb.db, { fastPaths: true, staleEventsReadFromTable: 0 });

    for (const reader of [lazy, strict, fast]) {
      expect(await reader.aggregate(whoE, query)).toEqual(await raw.aggregate(whoE, query));
      expect(await reader.eventTypes(whoE, range)).toEqual(await raw.eventTypes(whoE, range));
    }
    expect(await sets()).toBe(0);
    await new PgEventSets(testDb.db).keep(tenant, { from: Date.parse(range.startTime), to: Date.parse(range.endTime) });
    expect(await sets()).toBeGreaterThan(0);
    expect(await strict.eventTypes(whoE, range)).toEqual(await raw.eventTypes(whoE, range));
  });

  it('count the categories and actions that only partial days hold, inside the range and not outside it', async () => {
    const tenant = '66666666-6666-4666-8666-666666666666';
    const whoF = { tenantId: tenant, subject: 'tester' };
    const at = (timestamp: string, category: string, action: string) => trackedEvent({ timestamp, type: 'USER_ACTION', category, action, userId: USERS[0] as string, sessionId: 's1' });
    const events = [
      // Every whole day: checkout/view.
      ...['03', '04', '05'].map((day) => at(`2026-03-${day}T12:00:00.000Z`, 'checkout', 'view')),
      // The partial day before: a whole hour in the range, a partial hour in it, and before the range.
      at('2026-03-02T20:30:00.000Z', 'hour-in', 'view'),
      at('2026-03-02T09:40:00.000Z', 'edge-in', 'edge-action'),
      at('2026-03-02T09:10:00.000Z', 'before-range', 'before-action'),
      // The partial day after: after the range only.
      at('2026-03-06T18:00:00.000Z', 'after-range', 'view'),
    ];
    await new PgEventStore(testDb.db, { setKeepingMs: 0 }).writeMessages([received(envelope(events, { tenantId: tenant }))]);
    const query: AggregationQuery = { startTime: '2026-03-02T09:30:00.000Z', endTime: '2026-03-06T12:34:00.000Z', granularity: 'hour', timezone: 'UTC' };

    const [fromSets, fromEvents] = await Promise.all([fast.aggregate(whoF, query), raw.aggregate(whoF, query)]);

    expect(fromSets).toEqual(fromEvents);
    expect(fromSets.summary).toMatchObject({ totalEvents: 5, categories: 3, actions: 2 });
    const wholeDaysOnly: AggregationQuery = { ...query, startTime: '2026-03-03T00:00:00.000Z', endTime: '2026-03-05T23:59:59.999Z' };
    expect((await fast.aggregate(whoF, wholeDaysOnly)).summary).toMatchObject({ totalEvents: 3, categories: 1, actions: 1 });
  });

  it('lets concurrent writers build the same sets and numbers', async () => {
    const tenant = '44444444-4444-4444-8444-444444444444';
    const whoD = { tenantId: tenant, subject: 'tester' };
    await new PgEventStore(testDb.db, { keepSets: false }).writeMessages([received(envelope(Array.from({ length: 200 }, randomEvent), { tenantId: tenant }))]);
    const range = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-13T00:00:00.000Z' };
    const query: AggregationQuery = { ...range, granularity: 'day', timezone: 'UTC', groupBy: ['event_type'] };
    const touched = { from: Date.parse(range.startTime), to: Date.parse(range.endTime) };

    const sets = new PgEventSets(testDb.db);
    await Promise.all([sets.keep(tenant, touched), sets.keep(tenant, touched), sets.keep(tenant, touched)]);

    expect(await fast.eventTypes(whoD, range)).toEqual(await raw.eventTypes(whoD, range));
    expect(await fast.aggregate(whoD, query)).toEqual(await raw.aggregate(whoD, query));
    const numbers = await inTenantTransaction(testDb.db, tenant, (session) =>
      session.query<{ kinds: number; members: number; distinct: number; highest: number }>(
        'SELECT count(DISTINCT kind)::int AS kinds, count(*)::int AS members, count(DISTINCT number)::int AS "distinct", max(number) AS highest FROM set_members',
      ),
    );
    // One count per tenant for users and sessions: 1..n, none twice, none skipped.
    expect(numbers).toEqual([{ kinds: 2, members: numbers[0]?.highest, distinct: numbers[0]?.highest, highest: numbers[0]?.highest }]);
  });

  it("keeps each tenant's sets and member numbers to that tenant", async () => {
    const everything = { startTime: '2026-02-01T00:00:00.000Z', endTime: '2026-04-01T00:00:00.000Z' };
    await Promise.all([fast.eventTypes(who, everything), fast.eventTypes({ ...who, tenantId: TENANT_B }, everything)]);

    for (const table of ['event_sets', 'set_members']) {
      const seen = await inTenantTransaction(testDb.db, TENANT_A, (session) => session.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM ${table}`));
      expect(seen, table).toEqual([{ tenant_id: TENANT_A }]);
    }
    const [owners] = await testDb.db.query<{ tenants: string | number }>('SELECT count(DISTINCT tenant_id) AS tenants FROM event_sets');
    expect(Number(owners?.tenants)).toBeGreaterThanOrEqual(2);
  });
});

describe('property filters through the search function', () => {
  const propertyFilters = [{ plan: 'pro' }, { plan: 'free', cart: { items: 2 } }, { tags: ['a', 'b'] }, { tags: [] }, { plan: 'none' }];

  it('find, count and aggregate what the plain SQL finds', async () => {
    for (const properties of propertyFilters) {
      const filters = { ...randomRange(), properties };
      const page = { limit: 7, offset: 0, order: 'desc' as const };
      const query: AggregationQuery = { ...filters, granularity: 'day', timezone: 'UTC', groupBy: ['event_type'] };

      const [searched, plain] = await Promise.all([fast.findEvents(who, filters, page), raw.findEvents(who, filters, page)]);
      const [aggregated, plainAggregate] = await Promise.all([fast.aggregate(who, query), raw.aggregate(who, query)]);

      expect(searched, JSON.stringify(filters)).toEqual(plain);
      expect(aggregated, JSON.stringify(query)).toEqual(plainAggregate);
      const last = plain.events.at(-1);
      for (const next of [{ ...page, order: 'asc' as const, offset: 3 }, { ...page, offset: 10_000 }, ...(last ? [{ ...page, after: { timestamp: last.timestamp, eventId: last.eventId } }] : [])]) {
        expect(await fast.findEvents(who, filters, next), JSON.stringify(next)).toEqual(await raw.findEvents(who, filters, next));
      }
    }
    const all = { startTime: '2026-02-01T00:00:00.000Z', endTime: '2026-04-01T00:00:00.000Z', properties: { plan: 'pro' } };
    expect((await fast.findEvents(who, all, { limit: 1, offset: 0, order: 'asc' })).total).toBeGreaterThan(100);
  });

  it("returns only the scoped tenant's rows, whatever tenant it is asked for", async () => {
    const range = ['2026-02-01T00:00:00Z', '2026-04-01T00:00:00Z'];
    const search = (tenant: string) =>
      inTenantTransaction(testDb.db, TENANT_A, (session) =>
        session.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM events_with_properties($1, '{}', '[]', $2, $3)`, [tenant, ...range]),
      );

    expect(await search(TENANT_A)).toEqual([{ tenant_id: TENANT_A }]);
    expect(await search(TENANT_B)).toEqual([]);
    const unscoped = await testDb.db.query(`SELECT * FROM events_with_properties($1, '{}', '[]', $2, $3)`, [TENANT_B, ...range]);
    expect(unscoped).toEqual([]);
  });

  it('gives its unrestricted policy to no role, the application role included', async () => {
    // Effective membership: an Aurora migrator keeps the ADMIN-only grant PG 16 gives a role's creator, which confers nothing.
    const holders = await testDb.db.query(
      `SELECT rolname FROM pg_roles WHERE rolname <> 'tracker_search' AND NOT rolsuper AND pg_has_role(oid, 'tracker_search', 'USAGE')`,
    );
    expect(holders).toEqual([]);
    const seen = await inTenantTransaction(testDb.db, TENANT_A, (session) => session.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM analytics_events'));
    expect(seen).toEqual([{ tenant_id: TENANT_A }]);
  });

  it('checks the same condition as the tenant policy (change one, change the other)', async () => {
    const [policy] = await testDb.db.query<{ qual: string }>(`SELECT qual FROM pg_policies WHERE tablename = 'analytics_events' AND policyname = 'tenant_isolation'`);
    const [search] = await testDb.db.query<{ source: string }>(`SELECT prosrc AS source FROM pg_proc WHERE proname = 'events_with_properties'`);

    expect(policy?.qual).toBe(`(tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)`);
    expect(search?.source).toContain(`tenant IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid`);
  });
});
