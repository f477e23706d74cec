import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import type { TrackedEvent } from '../../../lambdas/shared/domain/event-schemas.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';

/**
 * Generated input, shaped like each query schema or arbitrary, thrown at the running local
 * server: no answer may be a 5xx, and every 400 is problem+json listing what was wrong.
 */

let app: RunningRuntime;
let reader: string;
let admin: string;
let cursor: string;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
/** Stands for `1e400` in a body: JSON.stringify cannot write a number past the largest double. */
const HUGE = '__number_past_the_largest_double__';
const cursorFilters = { startTime: iso(NOW - 90 * DAY), endTime: iso(NOW) };
/** The work is bounded by the number of runs, not by a clock: two loaded cores may be slow. */
const RUNS = { shaped: 150, arbitrary: 60 };
const GENEROUS_TIMEOUT_MS = 15 * 60_000;

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
}

async function send(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${app.runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body).replaceAll(`"${HUGE}"`, '1e400'),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

function expectNoServerError(answer: Answer, request: string): void {
  expect(answer.status, `${request} -> ${answer.status} ${answer.text}`).toBeLessThan(500);
  if (answer.status !== 400) return;
  expect(answer.contentType, request).toBe('application/problem+json');
  const problem = JSON.parse(answer.text) as { errors?: unknown };
  expect(Array.isArray(problem.errors) && problem.errors.length > 0, `${request} -> ${answer.text}`).toBe(true);
}

const queryString = (params: Record<string, string>) => (Object.keys(params).length > 0 ? `?${new URLSearchParams(params)}` : '');

// Values: hostile text, edge numbers, dates from the plausible to the absurd.
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', "'", '"', ';', '--', '\\', '\u0000', '\ud800', 'a\udfff', '__proto__', 'constructor', "'); DROP TABLE analytics_events; --", '$1', '%', '%zz', '../..', '\n', 'x'.repeat(300)),
);
const edgeNumber = fc.constantFrom(HUGE, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, -0, 0.5, -1, 5e-324);
const anyNumber = fc.oneof(fc.integer({ min: -5, max: 2000 }), edgeNumber, fc.double());
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, hostileString, anyNumber, fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(hostileString, tie('value'), { maxKeys: 3 })),
})).value;

const recentDate = fc.integer({ min: -100 * DAY, max: 2 * DAY }).map((offset) => iso(NOW + offset));
/** Dates zod may take, at the ends of time and with odd offsets, and some that no one should. */
const edgeDate = fc.constantFrom(
  '0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00+14:00', '1900-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z',
  '1970-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59-14:00', '2026-03-29T01:30:00+01:00', '2026-02-30T00:00:00Z',
  '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:60Z', '2026-01-01T00:00:00+24:00', '2026-01-01', 'now',
  '2026-01-01T00:00:00.123456789Z',
);
const dateString = fc.oneof(
  { weight: 4, arbitrary: recentDate },
  { weight: 2, arbitrary: edgeDate },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()) },
  { weight: 1, arbitrary: fc.tuple(recentDate, fc.constantFrom('+14:00', '-12:00', '+05:45', '-00:00', '+15:59', '+23:59', '-18:00')).map(([date, offset]) => date.replace('Z', offset)) },
  { weight: 1, arbitrary: hostileString },
);
const rangeLength = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 90 * DAY }) }, fc.constantFrom(-HOUR, 0, 1, 59_999, 60_000, 7 * DAY, 90 * DAY, 90 * DAY + 1, 92 * DAY));
/** Mostly ranges that reach the database, some at the ends of time, the rest anything at all. */
const range = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(fc.integer({ min: -95 * DAY, max: DAY }), rangeLength).map(([start, length]) => ({ startTime: iso(NOW + start), endTime: iso(NOW + start + length) })),
  },
  { weight: 1, arbitrary: fc.tuple(edgeDate, rangeLength).map(([start, length]) => ({ startTime: start, endTime: iso((Date.parse(start) || 0) + length) })) },
  { weight: 1, arbitrary: fc.record({ startTime: dateString, endTime: dateString }, { requiredKeys: [] }) },
);

/** Anything in place of a field: a well-formed query with one or two fields spoilt, or an unknown one added. */
const spoil = <T extends object>(query: fc.Arbitrary<T>, fields: string[]) =>
  fc
    .tuple(query, fc.array(fc.tuple(fc.constantFrom(...fields, 'tenantId', 'colour', '__proto__'), fc.oneof(hostileJson, dateString)), { minLength: 1, maxLength: 2 }))
    .map(([valid, spoilt]) => ({ ...valid, ...Object.fromEntries(spoilt) }));
const mostlyValid = <T extends object>(query: fc.Arbitrary<T>, fields: string[]) => fc.oneof({ weight: 3, arbitrary: query }, { weight: 2, arbitrary: spoil(query, fields) });
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const EVENT_TYPES = ['USER_ACTION', 'SYSTEM_EVENT', 'ERROR', 'PERFORMANCE', 'BUSINESS', 'SECURITY', 'CUSTOM'] as const;
/** Well-formed filters with the edges the schemas allow: repeats, hostile but storable text, 100-character values. */
const storableText = fc.constantFrom("'; DROP TABLE analytics_events; --", 'x'.repeat(100), 'Zoë €', '"', '\\', '%');
const filters = {
  eventTypes: optional(fc.array(fc.constantFrom(...EVENT_TYPES), { minLength: 1, maxLength: 7 })),
  categories: optional(fc.array(fc.oneof(fc.constantFrom('checkout', 'search'), storableText), { minLength: 1, maxLength: 5 })),
  actions: optional(fc.array(fc.oneof(fc.constantFrom('a0', 'a1', 'a2'), storableText), { minLength: 1, maxLength: 5 })),
};
const jsonLeaf = fc.oneof(fc.constantFrom('pro', 'free', '', 'x'), fc.integer({ min: -2, max: 3 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const propertyFilter = fc.dictionary(
  fc.oneof(fc.constantFrom('plan', 'tags', 'nested'), storableText),
  fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 3 }), fc.dictionary(fc.constantFrom('tier', 'x'), jsonLeaf, { maxKeys: 2 })),
  { minKeys: 1, maxKeys: 3 },
);
/** Odd zones (half-hour and 45-minute offsets, DST of half an hour, ±14 h, links, any case), then names to refuse. */
const timezone = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Kiritimati', 'Pacific/Chatham', 'Etc/GMT+12',
      'Etc/GMT-14', 'CET', 'EST5EDT', 'europe/LONDON', 'America/Godthab', 'Antarctica/Troll', 'America/New_York', 'Europe/Kyiv',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('US/Pacific-New', 'Factory', 'posix/Europe/London', 'localtime', '+05:30', 'GMT+5', 'Asia/Hanoi') },
);
const GROUP_FIELDS = ['event_type', 'category', 'action', 'user_id'] as const;

const eventQuery = mostlyValid(
  fc
    .tuple(
      range,
      fc.record({
        ...filters,
        userId: optional(fc.uuid()),
        sessionId: optional(fc.constantFrom('s0', 's1', 'x'.repeat(64), "'")),
        properties: optional(propertyFilter),
        limit: optional(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(1, 1000))),
        offset: optional(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 100_000))),
        cursor: fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, fc.constant('real')),
        orderBy: optional(fc.constantFrom('timestamp_asc', 'timestamp_desc')),
      }),
    )
    .map(([times, query]) => ({ ...times, ...query, ...(query.cursor ? { cursor, offset: undefined } : {}) })),
  ['startTime', 'endTime', 'eventTypes', 'categories', 'actions', 'userId', 'sessionId', 'properties', 'limit', 'offset', 'cursor', 'orderBy'],
);
/** The query a real cursor belongs to, with that cursor (it is read when the property runs, after beforeAll). */
const cursorQuery = fc.integer({ min: 1, max: 50 }).map((limit) => ({ ...cursorFilters, limit, cursor }));
const aggregateQuery = mostlyValid(
  fc
    .tuple(
      range,
      fc.record({
        ...filters,
        granularity: optional(fc.constantFrom('minute', 'hour', 'day', 'week', 'month')),
        groupBy: optional(fc.oneof({ weight: 3, arbitrary: fc.subarray([...GROUP_FIELDS]) }, fc.array(fc.constantFrom(...GROUP_FIELDS), { minLength: 2, maxLength: 4 }))),
        timezone: optional(timezone),
      }),
    )
    .map(([times, query]) => ({ ...times, ...query })),
  ['startTime', 'endTime', 'eventTypes', 'categories', 'actions', 'granularity', 'groupBy', 'timezone'],
);
/** What tenant A holds: 240 events over 95 days, one of them with the largest double as its value. */
const eventsA: TrackedEvent[] = Array.from({ length: 240 }, (_, index) =>
  trackedEvent({
    timestamp: iso(NOW - (index % 95) * DAY - index * 7 * 60_000),
    type: index % 4 === 0 ? 'PERFORMANCE' : 'USER_ACTION',
    category: index % 2 ? 'checkout' : 'search',
    action: `a${index % 3}`,
    value: index === 7 ? Number.MAX_VALUE : index % 4 === 0 ? index * 3.5 : null,
    userId: index % 5 === 0 ? null : randomUUID(),
    sessionId: `s${index % 4}`,
    properties: { plan: index % 2 ? 'pro' : 'free', tags: ['x'], nested: { tier: index % 3 } },
  }),
);
const eventId = fc.oneof(fc.constantFrom(...eventsA.map((event) => event.eventId)), fc.uuid(), fc.uuid().map((id) => id.toUpperCase()), hostileString);

const stringValues = (params: Record<string, unknown>) => Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value).replaceAll(`"${HUGE}"`, '1e400')]));
const numberText = fc.oneof(anyNumber.map(String), fc.constantFrom('1e400', 'Infinity', 'NaN', '-0', '0x10', ' 5', '1.5', '9007199254740993', ''));
/** A query string with any keys and values, the route's own among them. */
const anyParams = (keys: string[]) => fc.dictionary(fc.oneof(fc.constantFrom(...keys), hostileString), fc.oneof(dateString, numberText, hostileString), { maxKeys: 4 });
const eventTypesParams = fc.oneof(mostlyValid(range, ['startTime', 'endTime']).map(stringValues), anyParams(['startTime', 'endTime']));
const auditParams = mostlyValid(
  fc.record({
    limit: optional(fc.oneof(fc.integer({ min: 1, max: 500 }).map(String), numberText)),
    before: optional(fc.oneof(fc.integer({ min: 1, max: 2 ** 40 }).map(String), numberText)),
    action: optional(fc.constantFrom('EVENTS_TRACKED', 'EVENTS_BATCH_PROCESSED', 'EVENTS_QUERIED', 'EVENTS_PURGED', 'SECURITY_EVENT')),
  }),
  ['limit', 'before', 'action'],
).map(stringValues);
const purgeParams = fc.oneof(mostlyValid(fc.record({ olderThan: dateString }), ['olderThan']).map(stringValues), anyParams(['olderThan']));
const arbitraryBody = fc.oneof(fc.jsonValue(), hostileJson, fc.string({ maxLength: 30 }));

async function check<T>(arbitrary: fc.Arbitrary<T>, numRuns: number, request: (input: T) => [method: string, path: string, token: string, body?: unknown]): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      const [method, path, token, body] = request(input);
      expectNoServerError(await send(method, path, token, body), `${method} ${path} ${body === undefined ? '' : JSON.stringify(body)}`);
    }),
    { numRuns },
  );
}

beforeAll(async () => {
  app = await startTestRuntime();
  reader = await app.token(TENANT_A, ['events:read']);
  admin = await app.token(TENANT_B, ['admin', 'events:read']);
  await new PgEventStore(app.testDb.db).writeMessages([
    received(envelope(eventsA)),
    received(envelope(eventsA.slice(0, 30).map((event) => ({ ...event, eventId: randomUUID() })), { tenantId: TENANT_B })),
  ]);
  const page = JSON.parse((await send('POST', '/v1/events/query', reader, { ...cursorFilters, limit: 3 })).text) as { nextCursor: string };
  cursor = page.nextCursor;
});

afterAll(async () => {
  await app.stop();
});

describe('no query input makes the server fail', () => {
  it('POST /v1/events/query, schema-shaped', async () => {
    await check(fc.oneof({ weight: 9, arbitrary: eventQuery }, cursorQuery), RUNS.shaped, (body) => ['POST', '/v1/events/query', reader, body]);
  }, GENEROUS_TIMEOUT_MS);

  it('POST /v1/events/query, arbitrary bodies', async () => {
    await check(arbitraryBody, RUNS.arbitrary, (body) => ['POST', '/v1/events/query', reader, body]);
  }, GENEROUS_TIMEOUT_MS);

  it('POST /v1/analytics/aggregate, schema-shaped', async () => {
    await check(aggregateQuery, RUNS.shaped, (body) => ['POST', '/v1/analytics/aggregate', reader, body]);
  }, GENEROUS_TIMEOUT_MS);

  it('POST /v1/analytics/aggregate, arbitrary bodies', async () => {
    await check(arbitraryBody, RUNS.arbitrary, (body) => ['POST', '/v1/analytics/aggregate', reader, body]);
  }, GENEROUS_TIMEOUT_MS);

  it('GET /v1/analytics/event-types, any query string', async () => {
    await check(eventTypesParams, RUNS.shaped, (params) => ['GET', `/v1/analytics/event-types${queryString(params)}`, reader]);
  }, GENEROUS_TIMEOUT_MS);

  it('GET /v1/events/{eventId}, any id', async () => {
    await check(eventId, RUNS.shaped, (id) => ['GET', `/v1/events/${encodeURIComponent(id.toWellFormed())}`, reader]);
  }, GENEROUS_TIMEOUT_MS);

  it('GET /v1/audit, any query string', async () => {
    await check(fc.oneof(auditParams, anyParams(['limit', 'before', 'action'])), RUNS.shaped, (params) => ['GET', `/v1/audit${queryString(params)}`, admin]);
  }, GENEROUS_TIMEOUT_MS);

  it('DELETE /v1/events?olderThan, any query string', async () => {
    await check(purgeParams, RUNS.shaped, (params) => ['DELETE', `/v1/events${queryString(params)}`, admin]);
  }, GENEROUS_TIMEOUT_MS);
});
