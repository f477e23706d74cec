import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgEventQueries } from '../../../../../lambdas/shared/adapters/pg/pg-event-queries.js';
import { PgEventStore } from '../../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { ValidationError } from '../../../../../lambdas/shared/domain/errors.js';
import { canonicalTimeZone, isTimeZoneName } from '../../../../../lambdas/shared/domain/query-schemas.js';
import { envelope, received, TENANT_A, trackedEvent } from '../../../../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../../../../support/test-database.js';

let testDb: TestDatabase;
let names: string[];

/** What Postgres lists from a system zoneinfo that is no zone name of the tz database. */
const NOT_TZ_DATABASE_NAMES = /^(posix\/|right\/|localtime$|posixrules$|Factory$)/;

/** Minutes east of UTC of `zone` at `ms`, as Intl sees it. */
function intlOffset(zone: string, ms: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value ?? '';
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  names = (await testDb.db.query<{ name: string }>('SELECT name FROM pg_timezone_names ORDER BY name')).map((row) => row.name);
});

afterAll(async () => {
  await testDb.drop();
});

describe('time zone names of aggregates', () => {
  it('takes every name the database knows from the tz database, links included', () => {
    const refused = names.filter((name) => !isTimeZoneName(name));
    expect(names.length).toBeGreaterThan(500);
    expect(refused.filter((name) => !NOT_TZ_DATABASE_NAMES.test(name))).toEqual([]);
  });

  it('hands the database, for every name it takes, a zone with the offsets Intl gives, in winter and in summer', async () => {
    const taken = names.filter(isTimeZoneName);
    const instants = ['2026-01-15T12:00:00Z', '2026-07-15T12:00:00Z'];
    const rows = await testDb.db.query<{ name: string; at: string; minutes: string | number }>(
      `SELECT name, at, extract(epoch FROM (at::timestamptz AT TIME ZONE zone) - (at::timestamptz AT TIME ZONE 'UTC')) / 60 AS minutes
       FROM unnest($1::text[], $2::text[]) AS z(name, zone), unnest($3::text[]) AS at`,
      [taken, taken.map(canonicalTimeZone), instants],
    );
    const disagreements = rows.filter((row) => Number(row.minutes) !== intlOffset(row.name, Date.parse(row.at))).map((row) => `${row.name} at ${row.at}`);
    expect(rows).toHaveLength(taken.length * instants.length);
    expect(disagreements).toEqual([]);
  });

  it('buckets days in CET at local midnight in summer, where Postgres alone reads CET as +01:00 all year', async () => {
    const tenantId = randomUUID();
    // 00:30 on 16 July in Brussels, 23:30 on 15 July at +01:00.
    await new PgEventStore(testDb.db).writeMessages([received(envelope([trackedEvent({ timestamp: '2026-07-15T22:30:00.000Z' })], { tenantId }))]);

    const answer = await new PgEventQueries(testDb.db, { fastPaths: false }).aggregate(
      { tenantId, subject: 'tester' },
      { startTime: '2026-07-14T00:00:00Z', endTime: '2026-07-18T00:00:00Z', granularity: 'day', timezone: 'CET' },
    );

    expect(answer.data.map((row) => row.period)).toEqual(['2026-07-15T22:00:00.000Z']);
  });

  it('refuses as a 400 naming timezone a name Node knows and the database does not', async () => {
    expect(isTimeZoneName('US/Pacific-New')).toBe(true);
    expect(names).not.toContain('US/Pacific-New');

    const answer = new PgEventQueries(testDb.db).aggregate(
      { tenantId: TENANT_A, subject: 'tester' },
      { startTime: '2026-07-01T00:00:00Z', endTime: '2026-07-02T00:00:00Z', granularity: 'hour', timezone: 'US/Pacific-New' },
    );

    await expect(answer).rejects.toEqual(new ValidationError([{ path: 'timezone', message: 'is not a time zone the database knows' }]));
  });
});
