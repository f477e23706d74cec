import { describe, expect, it } from 'vitest';
import { keptPeriods, SETTLE_MS } from '../../../../lambdas/shared/domain/rollup-ranges.js';

const at = (iso: string) => Date.parse(iso);

describe('the periods a writer keeps the event sets of', () => {
  it('are the settled hours and days of a backfill, and the last settled hour and day', () => {
    const now = at('2026-03-10T12:30:00Z');
    const splits = keptPeriods({ from: at('2026-03-02T05:10:00Z'), to: at('2026-03-04T10:59:00Z') }, now);

    expect(splits).toEqual([
      { hourStart: '2026-03-02T05:00:00.000Z', hourEnd: '2026-03-04T11:00:00.000Z', dayStart: '2026-03-02T05:00:00.000Z', dayEnd: '2026-03-02T05:00:00.000Z' },
      { hourStart: '2026-03-10T11:00:00.000Z', hourEnd: '2026-03-10T12:00:00.000Z', dayStart: '2026-03-10T11:00:00.000Z', dayEnd: '2026-03-10T11:00:00.000Z' },
      { hourStart: '2026-03-02T00:00:00.000Z', hourEnd: '2026-03-05T00:00:00.000Z', dayStart: '2026-03-02T00:00:00.000Z', dayEnd: '2026-03-05T00:00:00.000Z' },
      { hourStart: '2026-03-09T00:00:00.000Z', hourEnd: '2026-03-10T00:00:00.000Z', dayStart: '2026-03-09T00:00:00.000Z', dayEnd: '2026-03-10T00:00:00.000Z' },
    ]);
  });

  it('never include an hour or day that has not settled', () => {
    // Live events: the current hour and day are open, the hour that just ended has not settled.
    const now = at('2026-03-10T12:00:30Z');
    const splits = keptPeriods({ from: now - 20_000, to: now - 1_000 }, now);

    expect(splits.map((split) => [split.hourStart, split.hourEnd])).toEqual([
      ['2026-03-10T10:00:00.000Z', '2026-03-10T11:00:00.000Z'],
      ['2026-03-09T00:00:00.000Z', '2026-03-10T00:00:00.000Z'],
    ]);
    for (const split of splits) expect(Date.parse(split.hourEnd)).toBeLessThanOrEqual(now - SETTLE_MS);
  });

  it('join the touched periods and the last settled one when they meet', () => {
    const now = at('2026-03-10T12:30:00Z');
    const splits = keptPeriods({ from: at('2026-03-10T09:15:00Z'), to: at('2026-03-10T10:45:00Z') }, now);

    expect(splits.map((split) => [split.hourStart, split.hourEnd])).toEqual([
      ['2026-03-10T09:00:00.000Z', '2026-03-10T12:00:00.000Z'],
      ['2026-03-09T00:00:00.000Z', '2026-03-10T00:00:00.000Z'],
    ]);
  });
});
