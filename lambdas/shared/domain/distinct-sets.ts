import type { SortedRun } from './sorted-runs.js';

/**
 * Exact figures that cannot be summed across buckets (unique users and sessions, percentiles),
 * combined from pieces of a range: stored event sets of whole hours and days, and the events of
 * the partial hours around them. Users and sessions are dictionary numbers where the tenant's
 * dictionary has them, and their ids (keys) where it does not yet.
 */
export interface MemberPiece {
  /** What the piece is counted under: a bucket, a bucket and type, a type. */
  group: string;
  eventCount: number;
  /** Epoch ms of its first and last event. */
  firstSeen: number;
  lastSeen: number;
  userNumbers: ArrayLike<number>;
  userKeys: readonly string[];
  sessionNumbers: ArrayLike<number>;
  sessionKeys: readonly string[];
  performanceValues: ArrayLike<number>;
  /** Its ingestion lags in ms, sorted: whole, or by marks with the rest read on demand (`sorted-runs.ts`). */
  lags: SortedRun;
}

export interface GroupFigures {
  eventCount: number;
  firstSeen: number;
  lastSeen: number;
  uniqueUsers: number;
  /** p50, p95, p99 of PERFORMANCE values; null when the group has none. */
  performance: [number, number, number] | null;
}

/**
 * Counts distinct dictionary numbers across several lists: a bit per number, so a union of
 * 300k members is one pass with no hashing, and a dictionary of 100M session numbers costs
 * 12.5 MB. Only the span of words a count set is cleared after it. Keys (members the
 * dictionary does not hold yet) are few and go through a Set.
 */
export class DistinctCounter {
  private bits = new Uint32Array(1024);

  count(numberLists: Iterable<ArrayLike<number>>, keyLists: Iterable<readonly string[]>): number {
    let distinct = 0;
    let lowest = Infinity;
    let highest = -1;
    for (const numbers of numberLists) {
      for (let index = 0; index < numbers.length; index++) {
        const number = numbers[index] as number;
        const word = number >>> 5;
        if (word >= this.bits.length) this.grow(word);
        const held = this.bits[word] as number;
        const bit = 1 << (number & 31);
        if ((held & bit) === 0) {
          this.bits[word] = held | bit;
          distinct++;
          if (word < lowest) lowest = word;
          if (word > highest) highest = word;
        }
      }
    }
    if (highest >= 0) this.bits.fill(0, lowest, highest + 1);
    const keys = new Set<string>();
    for (const list of keyLists) for (const key of list) keys.add(key);
    return distinct + keys.size;
  }

  private grow(word: number): void {
    const bits = new Uint32Array(Math.max(word + 1, this.bits.length * 2));
    bits.set(this.bits);
    this.bits = bits;
  }
}

/**
 * Postgres's percentile_cont, with its arithmetic (row positions floor and ceil of f * (n - 1),
 * then lo + f' * (hi - lo)), so both paths give the same doubles. Reorders `values`: the rows
 * at those positions are selected, not sorted (sorting 333k lags cost 32 ms of a 110 ms read).
 */
export function percentilesCont(values: Float64Array, fractions: readonly number[]): number[] | null {
  if (values.length === 0) return null;
  const positions = fractions.map((fraction) => fraction * (values.length - 1));
  const rows = valuesAtRanks(values, positions.flatMap((position) => [Math.floor(position), Math.ceil(position)]));
  return positions.map((position) => {
    const first = Math.floor(position);
    const second = Math.ceil(position);
    const low = rows.get(first) as number;
    if (first === second) return low;
    return low + (position - first) * ((rows.get(second) as number) - low);
  });
}

/**
 * The values at `ranks` of `values` as if it were sorted, by Hoare's FIND: after a rank is
 * found everything before it is no greater and everything after no smaller, so the next,
 * higher rank is searched for after it.
 */
export function valuesAtRanks(values: Float64Array, ranks: number[]): Map<number, number> {
  const found = new Map<number, number>();
  let from = 0;
  for (const rank of [...new Set(ranks)].sort((a, b) => a - b)) {
    let left = from;
    let right = values.length - 1;
    while (right > left) {
      // A random pivot: PERFORMANCE values come from clients, who could order them against a fixed one.
      const pivot = values[left + Math.floor(Math.random() * (right - left + 1))] as number;
      let i = left;
      let j = right;
      while (i <= j) {
        while ((values[i] as number) < pivot) i++;
        while ((values[j] as number) > pivot) j--;
        if (i <= j) {
          const swap = values[i] as number;
          values[i] = values[j] as number;
          values[j] = swap;
          i++;
          j--;
        }
      }
      if (rank <= j) right = j;
      else if (rank >= i) left = i;
      else break;
    }
    found.set(rank, values[rank] as number);
    from = rank;
  }
  return found;
}

export function concatenated(lists: readonly ArrayLike<number>[]): Float64Array {
  const values = new Float64Array(lists.reduce((sum, list) => sum + list.length, 0));
  let offset = 0;
  for (const list of lists) {
    values.set(list, offset);
    offset += list.length;
  }
  return values;
}

/** The pieces of each group, in their order. */
export function piecesByGroup(pieces: readonly MemberPiece[]): Map<string, MemberPiece[]> {
  const byGroup = new Map<string, MemberPiece[]>();
  for (const piece of pieces) {
    const group = byGroup.get(piece.group);
    if (group) group.push(piece);
    else byGroup.set(piece.group, [piece]);
  }
  return byGroup;
}

/** Unique users and PERFORMANCE percentiles of each group (its lags: `lagPercentilesByGroup`). */
export function figuresByGroup(pieces: readonly MemberPiece[]): Map<string, GroupFigures> {
  const byGroup = piecesByGroup(pieces);
  const users = new DistinctCounter();
  const figures = new Map<string, GroupFigures>();
  for (const [group, members] of byGroup) {
    const performance = percentilesCont(concatenated(members.map((piece) => piece.performanceValues)), [0.5, 0.95, 0.99]);
    figures.set(group, {
      eventCount: members.reduce((sum, piece) => sum + piece.eventCount, 0),
      firstSeen: members.reduce((first, piece) => Math.min(first, piece.firstSeen), Infinity),
      lastSeen: members.reduce((last, piece) => Math.max(last, piece.lastSeen), -Infinity),
      uniqueUsers: users.count(
        members.map((piece) => piece.userNumbers),
        members.map((piece) => piece.userKeys),
      ),
      performance: performance as [number, number, number] | null,
    });
  }
  return figures;
}

/** Unique users and sessions over every piece, whatever its group. */
export function uniqueMembers(pieces: readonly MemberPiece[]): { users: number; sessions: number } {
  return {
    users: new DistinctCounter().count(
      pieces.map((piece) => piece.userNumbers),
      pieces.map((piece) => piece.userKeys),
    ),
    sessions: new DistinctCounter().count(
      pieces.map((piece) => piece.sessionNumbers),
      pieces.map((piece) => piece.sessionKeys),
    ),
  };
}
