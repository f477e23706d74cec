import { concatenated, valuesAtRanks } from './distinct-sets.js';

/**
 * Exact percentiles over many sorted runs of values, most of them read only in part. An event
 * set keeps its ingestion lags sorted, with every `step`-th of them as marks (migration 0021):
 * from the marks alone the rows a percentile lands on are bounded to a window of each run, and
 * only the windows are read. The 333,000 lags of 30 days were 5.3 MB of hex on every read of
 * the event-types summary, for four of them.
 */

/** Values sorted ascending, known by every `step`-th from the first (the whole run when `step` is 1). */
export interface SortedRun {
  count: number;
  step: number;
  /** Positions 0, step, 2 * step, ... of the run: `ceil(count / step)` values. */
  marks: Float64Array;
}

/** Positions `[from, to)` of a run that must be read. */
export interface RunWindow {
  run: SortedRun;
  from: number;
  to: number;
}

/** The windows that hold the rows at `ranks` of the runs' union, and how many rows lie before all of them. */
export interface RankWindows {
  ranks: readonly [number, number];
  below: number;
  windows: RunWindow[];
}

/** How many marks are below `value` (or, `inclusive`, at most it): marks ascend. */
function marksUnder(marks: Float64Array, value: number, inclusive: boolean): number {
  let low = 0;
  let high = marks.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const mark = marks[middle] as number;
    if (mark < value || (inclusive && mark === value)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * At most this many rows of the union are below `value`: a run's mark at or above it stands at
 * position `j * step`, and nothing from there on is below.
 */
function mostBelow(runs: readonly SortedRun[], value: number): number {
  let most = 0;
  for (const run of runs) most += Math.min(run.count, marksUnder(run.marks, value, false) * run.step);
  return most;
}

/** At least this many rows are at most `value`: a run's mark at or under it has all its run's rows up to it. */
function leastAtMost(runs: readonly SortedRun[], value: number): number {
  let least = 0;
  for (const run of runs) {
    const marks = marksUnder(run.marks, value, true);
    if (marks > 0) least += (marks - 1) * run.step + 1;
  }
  return least;
}

/**
 * The windows of each run that hold the rows of the union at ranks `low` and `high` (0-based,
 * `low <= high`) as if the union were sorted. With `a` the largest mark that at most `low` rows
 * can be under, and `b` the smallest that at least `high + 1` rows are at or under, both rows
 * lie in [a, b]; a run's rows before its window are under `a`, those after it over `b`, so the
 * rows at the ranks are those at `rank - below` of the windows' values sorted.
 */
export function rankWindows(runs: readonly SortedRun[], low: number, high: number): RankWindows {
  const marks = concatenated(runs.map((run) => run.marks)).sort();
  // The smallest mark is the smallest row, and nothing is under it: a search from it always succeeds.
  let from = 0;
  let to = marks.length - 1;
  while (from < to) {
    const middle = (from + to + 1) >>> 1;
    if (mostBelow(runs, marks[middle] as number) <= low) from = middle;
    else to = middle - 1;
  }
  const a = marks[from] as number;
  // The largest mark may still leave fewer than high + 1 rows known: then b is past every row.
  let first = from;
  let last = marks.length;
  while (first < last) {
    const middle = (first + last) >>> 1;
    if (leastAtMost(runs, marks[middle] as number) >= high + 1) last = middle;
    else first = middle + 1;
  }
  const b = first < marks.length ? (marks[first] as number) : Infinity;
  let below = 0;
  const windows: RunWindow[] = [];
  for (const run of runs) {
    const under = marksUnder(run.marks, a, false);
    const start = under > 0 ? (under - 1) * run.step + 1 : 0;
    const end = Math.min(run.count, marksUnder(run.marks, b, true) * run.step);
    below += start;
    if (end > start) windows.push({ run, from: start, to: end });
  }
  return { ranks: [low, high], below, windows };
}

/** The ranks percentile_cont reads for each fraction of `count` rows: floor and ceil of f * (count - 1). */
export function percentileRanks(count: number, fractions: readonly number[]): Array<readonly [number, number]> {
  return fractions.map((fraction) => {
    const position = fraction * (count - 1);
    return [Math.floor(position), Math.ceil(position)] as const;
  });
}

/**
 * Postgres's percentile_cont of one fraction from its rank windows, given the values of each
 * window (`read`, in the windows' order): lo + f' * (hi - lo), the same doubles as the plain path.
 */
export function percentileFromWindows(count: number, fraction: number, found: RankWindows, read: readonly ArrayLike<number>[]): number {
  const values = concatenated(read);
  const position = fraction * (count - 1);
  const [first, second] = found.ranks;
  const rows = valuesAtRanks(values, [first - found.below, second - found.below]);
  const low = rows.get(first - found.below) as number;
  if (first === second) return low;
  return low + (position - first) * ((rows.get(second - found.below) as number) - low);
}

/** A run known whole: values sorted in place. */
export function wholeRun(values: Float64Array, sorted: boolean): SortedRun {
  if (!sorted) values.sort();
  return { count: values.length, step: 1, marks: values };
}

/** A run of no values. */
export const EMPTY_RUN: SortedRun = { count: 0, step: 1, marks: new Float64Array(0) };
