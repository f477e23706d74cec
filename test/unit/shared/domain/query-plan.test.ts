import { describe, expect, it } from 'vitest';
import { planAggregate, planEventTypes, planFind } from '../../../../lambdas/shared/domain/query-plan.js';
import type { AggregationQuery } from '../../../../lambdas/shared/domain/query-schemas.js';

// Edges inside hours, a whole UTC day between them: every piece of a split is used.
const range = { startTime: '2026-03-01T22:30:00.000Z', endTime: '2026-03-03T01:15:00.000Z' };
const withDays = { hourStart: '2026-03-01T23:00:00.000Z', hourEnd: '2026-03-03T01:00:00.000Z', dayStart: '2026-03-02T00:00:00.000Z', dayEnd: '2026-03-03T00:00:00.000Z' };
const hoursOnly = { hourStart: '2026-03-01T23:00:00.000Z', hourEnd: '2026-03-03T01:00:00.000Z', dayStart: '2026-03-01T23:00:00.000Z', dayEnd: '2026-03-01T23:00:00.000Z' };
const utcBins = (width: string, origin = '2000-01-01T00:00:00Z') => ({ kind: 'utc-bins', width, origin });

const query = (overrides: Partial<AggregationQuery> & Record<string, unknown> = {}): AggregationQuery => ({ ...range, granularity: 'day', timezone: 'UTC', ...overrides });

describe('planFind', () => {
  it('reads page and total from the search function for a property filter', () => {
    expect(planFind({ ...range, properties: { plan: 'pro' } }, true)).toEqual({ source: 'property-search' });
  });

  it('counts whole hours and days from the rollups when they can filter', () => {
    expect(planFind(range, true)).toEqual({ source: 'rollups', split: withDays });
  });

  it('counts on the events for a user or session filter', () => {
    expect(planFind({ ...range, userId: '00000000-0000-4000-8000-000000000001' }, true)).toEqual({ source: 'events' });
    expect(planFind({ ...range, sessionId: 's1' }, true)).toEqual({ source: 'events' });
  });

  it('reads only the table without the fast paths, property filters included', () => {
    expect(planFind(range, false)).toEqual({ source: 'events' });
    expect(planFind({ ...range, properties: { plan: 'pro' } }, false)).toEqual({ source: 'events' });
  });
});

describe('planAggregate', () => {
  it('reads the sets over whole UTC days in UTC day buckets, binned in UTC', () => {
    expect(planAggregate(query({ groupBy: ['event_type'] }), true)).toEqual({ source: 'sets', sets: 'by-type', buckets: utcBins('1 day'), split: withDays, dimensionsSplit: withDays });
  });

  it('uses no day rollup in hour buckets', () => {
    expect(planAggregate(query({ granularity: 'hour' }), true)).toMatchObject({ source: 'sets', buckets: utcBins('1 hour'), split: hoursOnly });
  });

  it('starts UTC weeks on Monday', () => {
    expect(planAggregate(query({ granularity: 'week' }), true).buckets).toEqual(utcBins('7 days', '2000-01-03T00:00:00Z'));
  });

  it('builds the local days of a whole-hour zone from hour rollups, and still counts categories over whole UTC days', () => {
    expect(planAggregate(query({ timezone: 'America/New_York' }), true)).toEqual({
      source: 'sets',
      sets: 'by-type',
      buckets: { kind: 'local', granularity: 'day', timeZone: 'America/New_York' },
      split: hoursOnly,
      dimensionsSplit: withDays,
    });
  });

  it('leaves a range inside one hour to the events of its edges', () => {
    const within = { startTime: '2026-03-01T10:10:00.000Z', endTime: '2026-03-01T10:50:00.000Z' };
    const empty = { hourStart: within.startTime, hourEnd: within.startTime, dayStart: within.startTime, dayEnd: within.startTime };

    expect(planAggregate(query({ ...within, granularity: 'hour' }), true)).toEqual({ source: 'sets', sets: 'by-type', buckets: utcBins('1 hour'), split: empty, dimensionsSplit: empty });
  });

  it('reads counts from the rollups and the rest from the events for a category or action filter', () => {
    const onRollups = { source: 'rollups', buckets: utcBins('1 day'), split: withDays, events: 'table', summary: 'hashed' };

    expect(planAggregate(query({ categories: ['checkout'] }), true)).toEqual(onRollups);
    expect(planAggregate(query({ actions: ['view'] }), true)).toEqual(onRollups);
    expect(planAggregate(query({ groupBy: ['category'], actions: ['view'] }), true)).toEqual(onRollups);
  });

  it('reads UTC days grouped by category or action from the sets per day and key', () => {
    const onSets = { source: 'sets', sets: 'by-dimension', buckets: utcBins('1 day'), split: withDays, dimensionsSplit: withDays };

    expect(planAggregate(query({ groupBy: ['event_type', 'category'] }), true)).toEqual(onSets);
    expect(planAggregate(query({ groupBy: ['action'] }), true)).toEqual(onSets);
  });

  it('reads other buckets grouped by category or action from the rollups and the events', () => {
    expect(planAggregate(query({ groupBy: ['category'], granularity: 'hour' }), true)).toMatchObject({ source: 'rollups' });
    expect(planAggregate(query({ groupBy: ['category'], granularity: 'week' }), true)).toMatchObject({ source: 'rollups' });
    expect(planAggregate(query({ groupBy: ['category'], timezone: 'America/New_York' }), true)).toMatchObject({ source: 'rollups' });
  });

  it('reads minute buckets from the events, binned in UTC', () => {
    expect(planAggregate(query({ granularity: 'minute' }), true)).toEqual({ source: 'events', buckets: utcBins('1 minute'), events: 'table', summary: 'hashed' });
  });

  it('reads a user_id group from the events', () => {
    expect(planAggregate(query({ groupBy: ['event_type', 'user_id'] }), true)).toMatchObject({ source: 'events', summary: 'hashed' });
  });

  it('reads filters the rollups lack from the events, a property filter through the search function', () => {
    expect(planAggregate(query({ userId: '00000000-0000-4000-8000-000000000001' }), true)).toMatchObject({ source: 'events', events: 'table' });
    expect(planAggregate(query({ sessionId: 's1' }), true)).toMatchObject({ source: 'events', events: 'table' });
    expect(planAggregate(query({ properties: { plan: 'pro' } }), true)).toMatchObject({ source: 'events', events: 'property-search' });
  });

  it('reads a zone with half-hour offsets from the events, in its canonical name', () => {
    expect(planAggregate(query({ granularity: 'hour', timezone: 'Asia/Kolkata' }), true)).toEqual({
      source: 'events',
      buckets: { kind: 'local', granularity: 'hour', timeZone: 'Asia/Calcutta' },
      events: 'table',
      summary: 'hashed',
    });
  });

  it('buckets local days that begin before a DST change in the zone, not in UTC bins', () => {
    // London went back to GMT at 01:00Z on 2026-10-25: that local day began at 23:00Z the day before.
    const plan = planAggregate(query({ startTime: '2026-10-25T02:00:00.000Z', endTime: '2026-10-27T00:00:00.000Z', timezone: 'Europe/London' }), true);

    expect(plan.buckets).toEqual({ kind: 'local', granularity: 'day', timeZone: 'Europe/London' });
  });

  it('buckets months in the zone, CET as the zone it links to', () => {
    expect(planAggregate(query({ granularity: 'month', timezone: 'CET' }), true).buckets).toEqual({ kind: 'local', granularity: 'month', timeZone: 'Europe/Brussels' });
  });

  it('reads everything from the table without the fast paths, in local buckets and the sorted summary', () => {
    expect(planAggregate(query({ groupBy: ['event_type'], properties: { plan: 'pro' } }), false)).toEqual({
      source: 'events',
      buckets: { kind: 'local', granularity: 'day', timeZone: 'UTC' },
      events: 'table',
      summary: 'sorted',
    });
  });
});

describe('planEventTypes', () => {
  it('reads the sets of whole UTC days and hours on the fast paths', () => {
    expect(planEventTypes(range, true)).toEqual({ source: 'sets', split: withDays });
  });

  it('reads the events without them', () => {
    expect(planEventTypes(range, false)).toEqual({ source: 'events' });
  });
});
