import { describe, expect, it } from 'vitest';
import { percentilesCont } from '../../../../lambdas/shared/domain/distinct-sets.js';
import { percentileFromWindows, percentileRanks, rankWindows, wholeRun, type SortedRun } from '../../../../lambdas/shared/domain/sorted-runs.js';

let state = 11;
const random = () => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;

/** A run known by marks every `step`, as a stored set is, with its whole values to read windows from. */
function markedRun(values: number[], step: number): { run: SortedRun; sorted: Float64Array } {
  const sorted = new Float64Array(values).sort();
  const marks = new Float64Array(Math.ceil(sorted.length / step));
  for (let index = 0; index < marks.length; index++) marks[index] = sorted[index * step] as number;
  return { run: { count: sorted.length, step, marks }, sorted };
}

function percentilesOfRuns(runs: Array<{ run: SortedRun; sorted: Float64Array }>, fractions: number[]): { percentiles: number[]; windowed: number } {
  const count = runs.reduce((sum, { run }) => sum + run.count, 0);
  const wholeOf = new Map(runs.map(({ run, sorted }) => [run, sorted]));
  let windowed = 0;
  const percentiles = percentileRanks(count, fractions).map(([low, high], index) => {
    const found = rankWindows(
      runs.map(({ run }) => run),
      low,
      high,
    );
    const read = found.windows.map((window) => (wholeOf.get(window.run) as Float64Array).subarray(window.from, window.to));
    windowed += read.reduce((sum, values) => sum + values.length, 0);
    return percentileFromWindows(count, fractions[index] as number, found, read);
  });
  return { percentiles, windowed };
}

describe('percentiles over sorted runs read by windows', () => {
  it("are Postgres's percentile_cont of the runs' union, for any runs, steps and duplicates", () => {
    const fractions = [0, 0.5, 0.95, 0.99, 1];
    for (let trial = 0; trial < 400; trial++) {
      const spread = trial % 3 === 0 ? 4 : 100_000;
      const runs = Array.from({ length: 1 + Math.floor(random() * 12) }, () => {
        const values = Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * spread) / 8);
        return markedRun(values, 1 + Math.floor(random() * 40));
      });
      const all = new Float64Array(runs.flatMap(({ sorted }) => [...sorted]));

      const { percentiles } = percentilesOfRuns(runs, fractions);

      expect(percentiles, `trial ${trial}`).toEqual(percentilesCont(all, fractions));
    }
  });

  it('read a few steps of each run, not the runs', () => {
    const runs = Array.from({ length: 200 }, () => markedRun(Array.from({ length: 1_600 }, () => random() * 5_000), 32));

    const { windowed } = percentilesOfRuns(runs, [0.5, 0.95]);

    // Two percentiles of 320,000 values: each window is at most a few steps of its run.
    expect(windowed).toBeLessThan(2 * 200 * 4 * 32);
  });

  it('take whole runs, sorted or not, beside marked ones', () => {
    const marked = markedRun([5, 1, 9, 3, 7, 2, 8], 3);
    const whole = wholeRun(new Float64Array([6, 4, 10]), false);

    const found = rankWindows([marked.run, whole], 4, 5);
    const read = found.windows.map((window) => (window.run === whole ? whole.marks : marked.sorted).subarray(window.from, window.to));

    expect(percentileFromWindows(10, 0.5, found, read)).toBe(5.5);
  });
});
