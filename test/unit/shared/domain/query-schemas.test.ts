import { describe, expect, it } from 'vitest';
import { AggregationQuerySchema, canonicalTimeZone, EventQuerySchema, isTimeZoneName } from '../../../../lambdas/shared/domain/query-schemas.js';
import { zodIssues } from '../../../../lambdas/shared/domain/zod-issues.js';

const range = { startTime: '2026-07-01T00:00:00Z', endTime: '2026-07-02T00:00:00Z' };

function issuesOf(schema: typeof AggregationQuerySchema | typeof EventQuerySchema, input: unknown) {
  const result = schema.safeParse(input);
  return result.success ? [] : zodIssues(result.error);
}

describe('AggregationQuerySchema', () => {
  it('refuses a groupBy field given twice, naming the repeat', () => {
    expect(issuesOf(AggregationQuerySchema, { ...range, groupBy: ['category', 'action', 'category'] })).toEqual([{ path: 'groupBy.2', message: 'repeats category' }]);
  });

  it('takes current names, old names and links of the tz database', () => {
    for (const timezone of ['Asia/Kolkata', 'Europe/Kyiv', 'Etc/UTC', 'GMT', 'Asia/Kathmandu', 'America/Argentina/Buenos_Aires', 'Asia/Calcutta', 'Europe/Kiev', 'Etc/GMT+5']) {
      expect(issuesOf(AggregationQuerySchema, { ...range, timezone }), timezone).toEqual([]);
    }
  });

  it('refuses offsets and POSIX rules, which Postgres would read with the sign reversed', () => {
    for (const timezone of ['+05:30', 'GMT+5', 'UTC+3', 'EST5', '', 'Europe/', '/London', 'Mars/Olympus_Mons']) {
      expect(issuesOf(AggregationQuerySchema, { ...range, timezone }), timezone).toEqual([{ path: 'timezone', message: 'is not an IANA time zone' }]);
    }
  });
});

describe('time zone names', () => {
  it('resolves a link to the zone Intl computes with, so the database cannot read it as an abbreviation', () => {
    expect(isTimeZoneName('CET')).toBe(true);
    expect(canonicalTimeZone('CET')).not.toBe('CET');
    expect(canonicalTimeZone('Europe/Kyiv')).toMatch(/^Europe\/Ki/);
  });
});

describe('EventQuerySchema', () => {
  it('hands instants on as UTC ISO text, whatever offset they came with', () => {
    const query = EventQuerySchema.parse({ startTime: '2026-07-01T23:30:00+23:59', endTime: '2026-07-02T00:00:00.123456Z' });
    expect([query.startTime, query.endTime]).toEqual(['2026-06-30T23:31:00.000Z', '2026-07-02T00:00:00.123Z']);
  });

  it('refuses instants before 1970 or past 9999, naming the field', () => {
    expect(issuesOf(EventQuerySchema, { startTime: '0000-01-01T00:00:00Z', endTime: '2026-01-01T00:00:00Z' }).map((issue) => issue.path)).toContain('startTime');
    expect(issuesOf(EventQuerySchema, { startTime: '9999-12-31T00:00:00Z', endTime: '9999-12-31T23:59:59-14:00' }).map((issue) => issue.path)).toContain('endTime');
  });

  it('refuses an empty sessionId instead of reading it as no filter', () => {
    expect(issuesOf(EventQuerySchema, { ...range, sessionId: '' })[0]?.path).toBe('sessionId');
  });

  it('refuses a property filter value past the largest double, naming it', () => {
    expect(issuesOf(EventQuerySchema, { ...range, properties: JSON.parse('{"n":{"m":1e400}}') })).toEqual([{ path: 'properties.n.m', message: 'is not a finite number' }]);
  });
});
