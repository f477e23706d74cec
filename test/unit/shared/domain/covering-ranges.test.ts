import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coveringRanges } from '../../../../lambdas/shared/domain/rollup-ranges.js';

describe('coveringRanges', () => {
  it('merges an hour into its day, touching hours into one, and keeps apart what does not touch', () => {
    const hour = 3_600_000;
    const day = 24 * hour;
    expect(coveringRanges([[day + 5 * hour, day + 6 * hour], [day, 2 * day], [3 * day, 3 * day + hour], [3 * day + hour, 3 * day + 2 * hour], [5 * day, 5 * day + hour]])).toEqual([
      [day, 2 * day],
      [3 * day, 3 * day + 2 * hour],
      [5 * day, 5 * day + hour],
    ]);
    expect(coveringRanges([])).toEqual([]);
  });

  it('covers exactly the instants of the ranges, each once, whatever their order', () => {
    const range = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 30 })).map(([from, length]) => [from, from + length] as const);
    fc.assert(
      fc.property(fc.array(range, { maxLength: 12 }), (ranges) => {
        const covered = coveringRanges(ranges);
        for (let instant = 0; instant < 240; instant++) {
          const inInput = ranges.some(([from, to]) => instant >= from && instant < to);
          const hits = covered.filter(([from, to]) => instant >= from && instant < to).length;
          expect(hits).toBe(inInput ? 1 : 0);
        }
        for (let index = 1; index < covered.length; index++) expect(covered[index]![0]).toBeGreaterThan(covered[index - 1]![1]);
      }),
    );
  });
});
