import { describe, expect, it } from 'vitest';
import { rollupFit, splitForRollups } from '../../../../lambdas/shared/domain/rollup-ranges.js';

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
});
