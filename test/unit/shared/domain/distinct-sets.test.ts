import { describe, expect, it } from 'vitest';
import { EMPTY_RUN } from '../../../../lambdas/shared/domain/sorted-runs.js';
import { DistinctCounter, figuresByGroup, percentilesCont, uniqueMembers, type MemberPiece } from '../../../../lambdas/shared/domain/distinct-sets.js';

function piece(overrides: Partial<MemberPiece>): MemberPiece {
  return {
    group: 'g',
    eventCount: 1,
    firstSeen: 0,
    lastSeen: 0,
    userNumbers: [],
    userKeys: [],
    sessionNumbers: [],
    sessionKeys: [],
    performanceValues: [],
    lags: EMPTY_RUN,
    ...overrides,
  };
}

describe('percentilesCont', () => {
  it("interpolates between neighbouring rows as Postgres's percentile_cont does", () => {
    expect(percentilesCont(new Float64Array([4, 1, 3, 2]), [0.5, 0.95, 0.99])).toEqual([2.5, 3 + (0.95 * 3 - 2) * 1, 3 + (0.99 * 3 - 2) * 1]);
    expect(percentilesCont(new Float64Array([7]), [0.5, 0.99])).toEqual([7, 7]);
  });

  it('selects the same rows as sorting would, duplicates and any order included', () => {
    const sortedPercentiles = (values: number[], fractions: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return fractions.map((fraction) => {
        const position = fraction * (sorted.length - 1);
        const low = sorted[Math.floor(position)] as number;
        return low + (position - Math.floor(position)) * ((sorted[Math.ceil(position)] as number) - low);
      });
    };
    let state = 7;
    const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    for (let run = 0; run < 200; run++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * (run % 2 ? 5 : 10_000)) / 4);
      const fractions = [0.5, 0.95, 0.99];

      expect(percentilesCont(new Float64Array(values), fractions), values.join(',')).toEqual(sortedPercentiles(values, fractions));
    }
  });

  it('has no percentile for no values', () => {
    expect(percentilesCont(new Float64Array(), [0.5])).toBeNull();
  });
});

describe('DistinctCounter', () => {
  it('counts a member once across lists, numbers and keys apart, far beyond its first size', () => {
    const counter = new DistinctCounter();

    const count = counter.count([[1, 2, 3], [3, 2, 50_000], new Int32Array([50_000, 4])], [['u-a'], ['u-a', 'u-b']]);

    expect(count).toBe(5 + 2);
    expect(counter.count([[1, 2]], [])).toBe(2);
  });
});

describe('figuresByGroup and uniqueMembers', () => {
  it('unions members and values within a group, never across groups', () => {
    const pieces = [
      piece({ group: 'day-1', eventCount: 3, firstSeen: 10, lastSeen: 20, userNumbers: [1, 2], performanceValues: [5, 1] }),
      piece({ group: 'day-1', eventCount: 1, firstSeen: 5, lastSeen: 5, userNumbers: [2], userKeys: ['new'], sessionKeys: ['s-new'], performanceValues: [3] }),
      piece({ group: 'day-2', eventCount: 2, firstSeen: 30, lastSeen: 40, userNumbers: [1], sessionNumbers: [9] }),
    ];

    const figures = figuresByGroup(pieces);

    expect(figures.get('day-1')).toEqual({ eventCount: 4, firstSeen: 5, lastSeen: 20, uniqueUsers: 3, performance: [3, 3 + (0.95 * 2 - 1) * 2, 3 + (0.99 * 2 - 1) * 2] });
    expect(figures.get('day-2')).toMatchObject({ uniqueUsers: 1, performance: null });
    expect(uniqueMembers(pieces)).toEqual({ users: 3, sessions: 2 });
  });
});
