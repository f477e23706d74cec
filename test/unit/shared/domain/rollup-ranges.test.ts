import { describe, expect, it } from 'vitest';
import { bucketsAreUtcBins, partialDays, rollupFit, splitForRollups } from '../../../../lambdas/shared/domain/rollup-ranges.js';

describe('splitForRollups', () => {
  it('keeps whole UTC days, the whole hours around them, and the partial hours for the events', () => {
    const split = splitForRollups({ startTime: '2026-03-01T22:30:00.000Z', endTime: '2026-03-04T01:15:00.000Z' }, true);
    expect(split).toEqual({
      hourStart: '2026-03-01T23:00:00.000Z',
      hourEnd: '2026-03-04T01:00:00.000Z',
      dayStart: '2026-03-02T00:00:00.000Z',
      dayEnd: '2026-03-04T00:00:00.000Z',
    });
  });

  it('counts an hour ending exactly at the inclusive end as whole', () => {
    const split = splitForRollups({ startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-01T02:00:00.000Z' }, true);
    expect(split).toMatchObject({ hourStart: '2026-03-01T00:00:00.000Z', hourEnd: '2026-03-01T02:00:00.000Z' });
  });

  it('uses hours only when day rollups may not stand in', () => {
    const split = splitForRollups({ startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-05T00:00:00.000Z' }, false);
    expect(split.dayStart).toBe(split.dayEnd);
  });

  it('leaves everything to the events within one hour', () => {
    const split = splitForRollups({ startTime: '2026-03-01T10:10:00.000Z', endTime: '2026-03-01T10:50:00.000Z' }, true);
    expect(new Set(Object.values(split))).toEqual(new Set(['2026-03-01T10:10:00.000Z']));
  });
});

describe('partialDays', () => {
  const daysFor = (range: { startTime: string; endTime: string }) => partialDays(range, splitForRollups(range, true));

  it('names the days of the partial hours on both sides of the whole days', () => {
    expect(daysFor({ startTime: '2026-03-01T22:30:00.000Z', endTime: '2026-03-04T01:15:00.000Z' })).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
      ['2026-03-04T00:00:00.000Z', '2026-03-05T00:00:00.000Z'],
    ]);
  });

  it('names no day before a range starting at midnight, and the day its inclusive end lies in', () => {
    // The last hour of 03-03 ends after 23:59:59.999, so the split leaves that day partial.
    expect(daysFor({ startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-03T23:59:59.999Z' })).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
      ['2026-03-03T00:00:00.000Z', '2026-03-04T00:00:00.000Z'],
    ]);
    expect(daysFor({ startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-03-04T00:00:00.000Z' })[1]).toEqual(['2026-03-04T00:00:00.000Z', '2026-03-05T00:00:00.000Z']);
  });

  it('covers every day of a range with no whole day, across midnight too', () => {
    const covered = (range: { startTime: string; endTime: string }) => daysFor(range).filter(([from, to]) => from < to);
    expect(covered({ startTime: '2026-03-01T10:10:00.000Z', endTime: '2026-03-01T10:50:00.000Z' })).toEqual([['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z']]);
    expect(covered({ startTime: '2026-03-01T20:00:00.000Z', endTime: '2026-03-02T10:00:00.000Z' }).flat()).toEqual([
      '2026-03-01T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-03-03T00:00:00.000Z',
    ]);
  });
});

describe('rollupFit', () => {
  const winterToSummer = { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-04-01T00:00:00.000Z' };

  it('builds UTC buckets from days and hours', () => {
    expect(rollupFit('UTC', winterToSummer)).toEqual({ hours: true, days: true });
  });

  it('builds buckets of whole-hour zones from hours, across DST', () => {
    expect(rollupFit('America/New_York', winterToSummer)).toEqual({ hours: true, days: false });
  });

  it('leaves half-hour zones and London’s summer to the events or the hours', () => {
    expect(rollupFit('Asia/Kolkata', winterToSummer)).toEqual({ hours: false, days: false });
    expect(rollupFit('Europe/London', winterToSummer)).toEqual({ hours: true, days: false });
    expect(rollupFit('Australia/Lord_Howe', { startTime: '2026-03-20T00:00:00.000Z', endTime: '2026-04-20T00:00:00.000Z' })).toEqual({ hours: false, days: false });
  });

  it('does not take a local mean time of hours and seconds for whole hours', () => {
    expect(rollupFit('Africa/Ndjamena', { startTime: '1911-06-01T00:00:00.000Z', endTime: '1911-06-03T00:00:00.000Z' })).toEqual({ hours: false, days: false });
  });
});

describe('bucketsAreUtcBins', () => {
  // London went back to GMT at 01:00Z on 2026-10-25: that local day began at 23:00Z the day before.
  const afterTheChange = { startTime: '2026-10-25T02:00:00.000Z', endTime: '2026-10-27T00:00:00.000Z' };

  it('bins minutes and hours of whole-hour zones, across DST', () => {
    expect(bucketsAreUtcBins('Europe/London', afterTheChange, 'hour')).toBe(true);
    expect(bucketsAreUtcBins('America/New_York', { startTime: '2026-03-01T00:00:00.000Z', endTime: '2026-04-01T00:00:00.000Z' }, 'minute')).toBe(true);
    expect(bucketsAreUtcBins('Asia/Kolkata', afterTheChange, 'hour')).toBe(false);
  });

  it('bins days and weeks only where the first local bucket started at a zero offset too', () => {
    expect(bucketsAreUtcBins('UTC', afterTheChange, 'week')).toBe(true);
    expect(bucketsAreUtcBins('Europe/London', afterTheChange, 'day')).toBe(false);
    expect(bucketsAreUtcBins('Europe/London', { startTime: '2026-10-26T02:00:00.000Z', endTime: '2026-10-27T00:00:00.000Z' }, 'day')).toBe(true);
    expect(bucketsAreUtcBins('Europe/London', { startTime: '2026-10-26T02:00:00.000Z', endTime: '2026-10-27T00:00:00.000Z' }, 'week')).toBe(false);
  });

  it('never bins months', () => {
    expect(bucketsAreUtcBins('UTC', afterTheChange, 'month')).toBe(false);
  });
});
