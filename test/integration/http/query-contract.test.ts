import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../../lambdas/shared/adapters/jwt/mint-token.js';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { ROUTES } from '../../../lambdas/routes.js';
import type { TrackedEvent } from '../../../lambdas/shared/domain/event-schemas.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent } from '../../support/factories.js';
import { startTestRuntime, TEST_SECRET, type RunningRuntime } from '../../support/local-runtime.js';
import { callApi, type ApiAnswer } from '../../support/api-client.js';

let app: RunningRuntime;
let tokenA: string;
let tokenB: string;

const call = (method: string, path: string, token: string | undefined, body?: unknown) => callApi(app.runtime.url, method, path, { token, body });

const HOUR = 3_600_000;
const base = Date.now() - 10 * 24 * HOUR;
const at = (hours: number) => new Date(base + hours * HOUR).toISOString();
const range = { startTime: at(-1), endTime: at(300) };
/** The hours of tenant A's seeded events (0..236), without the events the cursor test adds at 299. */
const seeded = { startTime: at(-1), endTime: at(240) };
const utcDay = (iso: string, offsetDays = 0) => new Date(Math.floor(Date.parse(iso) / 86_400_000 + offsetDays) * 86_400_000).toISOString();
/** Whole UTC days around the seeded events, so that day rollups and the raw answer cover the same events. */
const seededDays = { startTime: utcDay(seeded.startTime), endTime: new Date(Date.parse(utcDay(at(236), 1)) - 1).toISOString() };
const SHARED_USER = '6f1c1b3e-8d4f-4a53-9b8e-2a7d7f1b2c3d';
const SHARED_EVENT = 'c0ffee00-1234-4abc-8def-0123456789ab';

/** 60 events for tenant A, and tenant B holding events with the same user and an event id A also uses. */
const eventsA: TrackedEvent[] = Array.from({ length: 60 }, (_, index) =>
  trackedEvent({
    eventId: index === 0 ? SHARED_EVENT : randomUUID(),
    timestamp: at(index * 4),
    type: index % 3 === 0 ? 'PERFORMANCE' : 'USER_ACTION',
    category: index % 2 ? 'checkout' : 'search',
    action: `a${index % 4}`,
    value: index % 3 === 0 ? index * 10 : null,
    userId: index % 5 === 0 ? SHARED_USER : randomUUID(),
    sessionId: `s${index % 6}`,
    properties: { plan: index % 2 ? 'pro' : 'free', nested: { tier: index % 3 }, tags: index % 10 === 0 ? ['x', 'y'] : ['x'], "we'ird\"; key->>": index % 7 === 0 },
  }),
);
const eventsB: TrackedEvent[] = [
  trackedEvent({ eventId: SHARED_EVENT, timestamp: at(1), userId: SHARED_USER, category: 'checkout', type: 'USER_ACTION', action: 'a1', properties: { plan: 'pro' } }),
  ...Array.from({ length: 10 }, (_, index) => trackedEvent({ timestamp: at(index), userId: SHARED_USER, category: 'search', properties: { plan: 'free' } })),
];

beforeAll(async () => {
  app = await startTestRuntime();
  tokenA = await app.token(TENANT_A);
  tokenB = await app.token(TENANT_B);
  await new PgEventStore(app.testDb.db).writeMessages([received(envelope(eventsA)), received(envelope(eventsB, { tenantId: TENANT_B }))]);
});

afterAll(async () => {
  await app.stop();
});

const ids = (answer: ApiAnswer): string[] => answer.body.events.map((event: { eventId: string }) => event.eventId);
const expectedIds = (predicate: (event: TrackedEvent) => boolean) => eventsA.filter(predicate).map((event) => event.eventId);

describe('POST /v1/events/query', () => {
  it('filters on types and categories within the time range, newest first', async () => {
    const answer = await call('POST', '/v1/events/query', tokenA, { ...range, eventTypes: ['USER_ACTION'], categories: ['checkout'], limit: 1000 });
    const expected = expectedIds((event) => event.type === 'USER_ACTION' && event.category === 'checkout').reverse();
    expect(answer.status).toBe(200);
    expect(ids(answer)).toEqual(expected);
    expect(answer.body).toMatchObject({ total: expected.length, hasMore: false, nextCursor: null });
    expect(answer.body.events[0]).toMatchObject({ properties: expect.any(Object), context: expect.any(Object), metadata: expect.any(Object) });
  });

  it('filters on user, session and actions', async () => {
    const answer = await call('POST', '/v1/events/query', tokenA, { ...range, userId: SHARED_USER, sessionId: 's0', actions: ['a0', 'a2'], limit: 1000 });
    expect(ids(answer).sort()).toEqual(expectedIds((event) => event.userId === SHARED_USER && event.sessionId === 's0' && ['a0', 'a2'].includes(event.action)).sort());
  });

  it('filters on several properties, nested keys, exact arrays and hostile keys as plain data', async () => {
    const nested = await call('POST', '/v1/events/query', tokenA, { ...range, properties: { plan: 'pro', nested: { tier: 1 } }, limit: 1000 });
    const arrays = await call('POST', '/v1/events/query', tokenA, { ...range, properties: { tags: ['x'] }, limit: 1000 });
    const hostile = await call('POST', '/v1/events/query', tokenA, { ...range, properties: { "we'ird\"; key->>": true }, limit: 1000 });

    const props = (event: TrackedEvent) => event.properties as { plan: string; nested: { tier: number }; tags: string[] };
    expect(ids(nested).sort()).toEqual(expectedIds((event) => props(event).plan === 'pro' && props(event).nested.tier === 1).sort());
    expect(ids(arrays).sort()).toEqual(expectedIds((event) => props(event).tags.length === 1).sort());
    expect(ids(hostile).sort()).toEqual(expectedIds((event) => (event.properties as Record<string, unknown>)["we'ird\"; key->>"] === true).sort());
  });

  it('pages by cursor through every event once, in both orders, while new events arrive', async () => {
    for (const orderBy of ['timestamp_desc', 'timestamp_asc'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const answer = await call('POST', '/v1/events/query', tokenA, { ...range, orderBy, limit: 7, ...(cursor ? { cursor } : {}) });
        expect(answer.status).toBe(200);
        seen.push(...ids(answer));
        cursor = answer.body.nextCursor ?? undefined;
        pages += 1;
        // A newer event lands between pages: it must neither repeat nor shift what follows.
        if (pages === 2) await new PgEventStore(app.testDb.db).writeMessages([received(envelope([trackedEvent({ timestamp: at(299) })]))]);
      } while (cursor && pages < 50);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBeGreaterThanOrEqual(eventsA.length);
      expect(seen).toEqual(expect.arrayContaining(eventsA.map((event) => event.eventId)));
    }
  });

  it('pages by offset with total and hasMore as in the specification', async () => {
    const first = await call('POST', '/v1/events/query', tokenA, { ...range, categories: ['search'], limit: 10, offset: 0, orderBy: 'timestamp_asc' });
    const second = await call('POST', '/v1/events/query', tokenA, { ...range, categories: ['search'], limit: 10, offset: 10, orderBy: 'timestamp_asc' });
    const expected = expectedIds((event) => event.category === 'search');
    expect([...ids(first), ...ids(second)]).toEqual(expected.slice(0, 20));
    expect(first.body).toMatchObject({ total: expected.length, hasMore: true });
  });

  it('refuses a cursor that was edited, one of another tenant and one of other filters', async () => {
    const page = await call('POST', '/v1/events/query', tokenA, { ...range, limit: 5 });
    const cursor: string = page.body.nextCursor;
    const edited = `${cursor.slice(0, 10)}${cursor[10] === 'A' ? 'B' : 'A'}${cursor.slice(11)}`;

    const answers = await Promise.all([
      call('POST', '/v1/events/query', tokenA, { ...range, limit: 5, cursor: edited }),
      call('POST', '/v1/events/query', tokenB, { ...range, limit: 5, cursor }),
      call('POST', '/v1/events/query', tokenA, { ...range, limit: 5, cursor, categories: ['search'] }),
      call('POST', '/v1/events/query', tokenA, { ...range, limit: 5, cursor: 'not-a-cursor' }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0].path).toBe('cursor');
    }
  });

  it('never shows another tenant’s events, whatever the filters', async () => {
    const byUser = await call('POST', '/v1/events/query', tokenA, { ...range, userId: SHARED_USER, limit: 1000 });
    const byB = await call('POST', '/v1/events/query', tokenB, { ...range, limit: 1000 });
    const byIdA = await call('GET', `/v1/events/${SHARED_EVENT}`, tokenA);
    const byIdB = await call('GET', `/v1/events/${SHARED_EVENT}`, tokenB);

    expect(ids(byUser).every((id) => eventsA.some((event) => event.eventId === id))).toBe(true);
    expect(ids(byB).sort()).toEqual(eventsB.map((event) => event.eventId).sort());
    expect(byIdA.body.category).toBe(eventsA[0]?.category);
    expect(byIdB.body.category).toBe('checkout');
  });

  it('answers 400 naming the field for every kind of bad query', async () => {
    const cases: Array<[unknown, string]> = [
      [{ startTime: at(10), endTime: at(5) }, 'endTime'],
      [{ startTime: new Date(Date.now() - 200 * 24 * HOUR).toISOString(), endTime: at(1) }, 'startTime'],
      [{ ...range, limit: 0 }, 'limit'],
      [{ ...range, limit: 1001 }, 'limit'],
      [{ ...range, eventTypes: ['NOPE'] }, 'eventTypes.0'],
      [{ ...range, properties: [] }, 'properties'],
      [{ ...range, orderBy: 'random' }, 'orderBy'],
      [{ ...range, colour: 'red' }, 'colour'],
      [{ endTime: at(1) }, 'startTime'],
      [{ ...range, sessionId: '' }, 'sessionId'],
      [{ ...range, userId: '' }, 'userId'],
      [{ ...range, categories: [''] }, 'categories.0'],
      [{ ...range, actions: [''] }, 'actions.0'],
      [{ startTime: '0000-01-01T00:00:00Z', endTime: '0000-01-02T00:00:00Z' }, 'startTime'],
      [{ startTime: '9999-12-31T00:00:00Z', endTime: '9999-12-31T23:59:59-14:00' }, 'endTime'],
    ];
    for (const [body, path] of cases) {
      const answer = await call('POST', '/v1/events/query', tokenA, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    }
  });

  it('takes any offset zod takes, even past the ±15:59 Postgres reads', async () => {
    const answer = await call('POST', '/v1/events/query', tokenA, { startTime: at(-1).replace('Z', '+23:59'), endTime: at(300).replace('Z', '-18:00') });
    expect(answer.status).toBe(200);
  });

  it('matches no event for an empty property value, never every event', async () => {
    const answer = await call('POST', '/v1/events/query', tokenA, { ...range, properties: { plan: '' } });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ events: [], total: 0 });
  });

  it('needs the events:read scope', async () => {
    const writeOnly = await app.token(TENANT_A, ['events:write']);
    expect((await call('POST', '/v1/events/query', writeOnly, range)).status).toBe(403);
  });
});

describe('POST /v1/analytics/aggregate', () => {
  it('buckets per day with exact unique users, value statistics and PERFORMANCE percentiles', async () => {
    const answer = await call('POST', '/v1/analytics/aggregate', tokenA, { ...seeded, granularity: 'day', groupBy: ['event_type'] });
    expect(answer.status).toBe(200);
    const performance = eventsA.filter((event) => event.type === 'PERFORMANCE');
    const rows = answer.body.data.filter((row: { type: string }) => row.type === 'PERFORMANCE');
    expect(rows.reduce((sum: number, row: { count: number }) => sum + row.count, 0)).toBe(performance.length);
    expect(rows.reduce((sum: number, row: { totalValue: number }) => sum + row.totalValue, 0)).toBe(performance.reduce((sum, event) => sum + (event.value ?? 0), 0));
    const firstDay = rows[0];
    expect(firstDay.p50).toBeGreaterThanOrEqual(firstDay.minValue);
    expect(firstDay.p99).toBeLessThanOrEqual(firstDay.maxValue);
    // The shared user appears in many buckets but counts once in the summary.
    expect(answer.body.summary).toMatchObject({ totalEvents: eventsA.length, uniqueUsers: new Set(eventsA.map((event) => event.userId)).size, categories: 2, actions: 4 });
  });

  it('starts day buckets at local midnight in the given zone, across a DST change', async () => {
    const store = new PgEventStore(app.testDb.db);
    // 2026-03-08: New York moves from UTC-5 to UTC-4. These events are in the past: retention
    // would refuse them at ingest, so they go straight to the store.
    const tenant = randomUUID();
    const token = await app.token(tenant);
    const times = ['2026-03-07T04:59:00Z', '2026-03-07T05:00:00Z', '2026-03-08T04:59:00Z', '2026-03-08T05:00:00Z', '2026-03-09T03:59:00Z', '2026-03-09T04:00:00Z'];
    await store.writeMessages([received(envelope(times.map((timestamp) => trackedEvent({ timestamp })), { tenantId: tenant }))]);

    const answer = await call('POST', '/v1/analytics/aggregate', token, { startTime: '2026-03-06T00:00:00Z', endTime: '2026-03-10T00:00:00Z', granularity: 'day', timezone: 'America/New_York' });

    expect(answer.body.data.map((row: { period: string; count: number }) => [row.period, row.count])).toEqual([
      ['2026-03-06T05:00:00.000Z', 1],
      ['2026-03-07T05:00:00.000Z', 2],
      ['2026-03-08T05:00:00.000Z', 2],
      ['2026-03-09T04:00:00.000Z', 1],
    ]);
  });

  it('agrees with the rollups the writer keeps, on random data', async () => {
    const answer = await call('POST', '/v1/analytics/aggregate', tokenA, { ...seededDays, granularity: 'day', groupBy: ['event_type', 'category', 'action'] });
    const rollups = await app.testDb.db.query<{ period_start: Date | string; event_type: string; category: string; action: string; count: string | number; total_value: string | number; min_value: string | null; max_value: string | null }>(
      `SELECT period_start, event_type, category, action, count, total_value, min_value, max_value FROM event_rollups
       WHERE tenant_id = $1 AND granularity = 'day' AND period_start BETWEEN $2 AND $3 ORDER BY 1, 2, 3, 4`,
      [TENANT_A, seededDays.startTime, seededDays.endTime],
    );
    const fromRollups = rollups.map((row) => [new Date(row.period_start).toISOString(), row.event_type, row.category, row.action, Number(row.count), Number(row.total_value), row.min_value === null ? null : Number(row.min_value), row.max_value === null ? null : Number(row.max_value)]);
    const fromEvents = answer.body.data.map((row: Record<string, unknown>) => [row['period'], row['type'], row['category'], row['action'], row['count'], row['totalValue'], row['minValue'], row['maxValue']]);
    expect(fromEvents.length).toBeGreaterThan(20);
    expect(fromEvents).toEqual(fromRollups);
  });

  it('names the groups by the fields of an event (type, userId), as the other answers do', async () => {
    const answer = await call('POST', '/v1/analytics/aggregate', tokenA, { ...seeded, granularity: 'month', groupBy: ['event_type', 'category', 'action', 'user_id'] });

    const shared = answer.body.data.filter((row: { userId: string }) => row.userId === SHARED_USER);
    expect(answer.status).toBe(200);
    expect(shared.reduce((sum: number, row: { count: number }) => sum + row.count, 0)).toBe(eventsA.filter((event) => event.userId === SHARED_USER).length);
    for (const row of answer.body.data) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining(['type', 'category', 'action', 'userId']));
      expect(row).not.toHaveProperty('event_type');
      expect(row).not.toHaveProperty('user_id');
    }
  });

  it('answers 400 naming the repeat to a field grouped twice, instead of a 500', async () => {
    for (const field of ['category', 'action', 'event_type', 'user_id']) {
      const answer = await call('POST', '/v1/analytics/aggregate', tokenA, { ...seeded, granularity: 'day', groupBy: [field, field] });
      expect(answer.status, field).toBe(400);
      expect(answer.body.errors).toEqual([{ path: 'groupBy.1', message: `repeats ${field}` }]);
    }
  });

  it('takes tz database names whether current or old, links included', async () => {
    const zones = ['Asia/Kolkata', 'Europe/Kyiv', 'Etc/UTC', 'GMT', 'Asia/Kathmandu', 'America/Argentina/Buenos_Aires', 'Asia/Calcutta', 'Europe/Kiev', 'UTC', 'Europe/london'];
    for (const timezone of zones) {
      const answer = await call('POST', '/v1/analytics/aggregate', tokenA, { ...seeded, granularity: 'day', timezone });
      expect(answer.status, timezone).toBe(200);
      expect(answer.body.summary.totalEvents, timezone).toBe(eventsA.length);
    }
  });

  it('answers 400 naming timezone to a name Node knows and the database does not', async () => {
    const answer = await call('POST', '/v1/analytics/aggregate', tokenA, { ...seeded, granularity: 'day', timezone: 'US/Pacific-New' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'timezone', message: 'is not a time zone the database knows' }]);
  });

  it('reports a sum past the largest double as out of range, with no total and no average, from rollups and from events', async () => {
    const tenant = randomUUID();
    const token = await app.token(tenant);
    const day = '2026-05-04';
    await new PgEventStore(app.testDb.db).writeMessages([
      received(envelope(['10', '40'].map((second) => trackedEvent({ timestamp: `${day}T10:01:${second}.000Z`, value: Number.MAX_VALUE })), { tenantId: tenant })),
      received(envelope([trackedEvent({ timestamp: `${day}T11:00:00.000Z`, value: 2 })], { tenantId: tenant })),
    ]);

    for (const granularity of ['day', 'hour', 'minute']) {
      const answer = await call('POST', '/v1/analytics/aggregate', token, { startTime: `${day}T00:00:00Z`, endTime: `${day}T23:59:59Z`, granularity });
      const overflowing = answer.body.data[0];
      expect(answer.status, granularity).toBe(200);
      expect(overflowing, granularity).toMatchObject({ count: granularity === 'day' ? 3 : 2, totalValue: null, avgValue: null, valueOutOfRange: true, maxValue: Number.MAX_VALUE });
      if (granularity !== 'day') expect(answer.body.data.at(-1), granularity).toMatchObject({ totalValue: 2, avgValue: 2 });
      if (granularity !== 'day') expect(answer.body.data.at(-1), granularity).not.toHaveProperty('valueOutOfRange');
    }
  });

  it('answers 400 to an unknown groupBy, a zone that does not exist and too many buckets', async () => {
    const cases: Array<[unknown, string]> = [
      [{ ...range, groupBy: ['tenant_id'] }, 'groupBy.0'],
      [{ ...range, timezone: 'Mars/Olympus_Mons' }, 'timezone'],
      [{ ...range, granularity: 'minute' }, 'granularity'],
    ];
    for (const [body, path] of cases) {
      const answer = await call('POST', '/v1/analytics/aggregate', tokenA, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    }
  });
});

describe('GET /v1/analytics/event-types', () => {
  it('gives count, unique users, first and last seen and ingestion lag per type', async () => {
    const answer = await call('GET', `/v1/analytics/event-types?startTime=${encodeURIComponent(range.startTime)}&endTime=${encodeURIComponent(at(240))}`, tokenA);
    expect(answer.status).toBe(200);
    const performance = eventsA.filter((event) => event.type === 'PERFORMANCE');
    expect(answer.body).toEqual(
      expect.arrayContaining([
        {
          type: 'PERFORMANCE',
          count: performance.length,
          uniqueUsers: new Set(performance.map((event) => event.userId)).size,
          firstSeen: performance[0]?.timestamp,
          lastSeen: performance.at(-1)?.timestamp,
          ingestionLagMs: { p50: expect.any(Number), p95: expect.any(Number) },
        },
      ]),
    );
  });

  it('answers 400 without a range', async () => {
    const answer = await call('GET', '/v1/analytics/event-types', tokenA);
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error: { path: string }) => error.path)).toEqual(expect.arrayContaining(['startTime', 'endTime']));
  });
});

describe('audit of reads', () => {
  it('writes EVENTS_QUERIED with the filters and the result count for every query', async () => {
    const tenant = randomUUID();
    const token = await app.token(tenant);
    await call('POST', '/v1/events/query', token, { ...range, categories: ['search'] });
    await call('POST', '/v1/analytics/aggregate', token, range);

    const rows = await app.testDb.db.query<{ actor: string; details: { kind: string; resultCount: number } }>(
      `SELECT actor, details FROM audit_log WHERE tenant_id = $1 AND action = 'EVENTS_QUERIED' ORDER BY audit_id`,
      [tenant],
    );
    expect(rows.map((row) => row.details.kind)).toEqual(['events', 'aggregate']);
    expect(rows[0]).toMatchObject({ actor: 'tester', details: { resultCount: 0, filters: { categories: ['search'] } } });
  });

  it('logs the page size asked and the events answered, not the row read ahead to see if more follow', async () => {
    const subject = `pager-${randomUUID()}`;
    const pager = await mintToken({ secret: TEST_SECRET, tenantId: TENANT_A, subject, scopes: ['events:read'] });
    const answer = await call('POST', '/v1/events/query', pager, { ...range, limit: 5 });

    const [row] = await app.testDb.db.query<{ details: { page: { limit: number }; resultCount: number } }>(
      `SELECT details FROM audit_log WHERE tenant_id = $1 AND action = 'EVENTS_QUERIED' AND actor = $2`,
      [TENANT_A, subject],
    );
    expect(answer.body.events).toHaveLength(5);
    expect(answer.body.hasMore).toBe(true);
    expect(row?.details).toMatchObject({ page: { limit: 5 }, resultCount: 5 });
  });
});

describe('GET /v1/openapi.json', () => {
  it('describes every route in OpenAPI 3.1, with the request schemas, auth and problem answers', async () => {
    const answer = await call('GET', '/v1/openapi.json', undefined);
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    for (const route of Object.values(ROUTES)) expect(answer.body.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    const query = answer.body.paths['/v1/events/query'].post;
    expect(query.requestBody.content['application/json'].schema.properties.limit).toMatchObject({ minimum: 1, maximum: 1000 });
    expect(query.responses['400'].content['application/problem+json']).toBeDefined();
    expect(answer.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
