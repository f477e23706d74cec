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
  lagsMs: ArrayLike<number>;
}

export interface GroupFigures {
  eventCount: number;
  firstSeen: number;
  lastSeen: number;
  uniqueUsers: number;
  /** p50, p95, p99 of PERFORMANCE values; null when the group has none. */
  performance: [number, number, number] | null;
  /** p50, p95 of ingestion lag; null when the group has no event. */
  lagMs: [number, number] | null;
}

/** int4 big-endian values, as `int4send` writes them. */
export function int4s(bytes: Uint8Array): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Int32Array(bytes.byteLength >> 2);
  for (let index = 0; index < values.length; index++) values[index] = view.getInt32(index * 4);
  return values;
}

/** float8 big-endian values, as `float8send` writes them. */
export function float8s(bytes: Uint8Array): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float64Array(bytes.byteLength >> 3);
  for (let index = 0; index < values.length; index++) values[index] = view.getFloat64(index * 8);
  return values;
}

/**
 * Counts distinct dictionary numbers across several lists: a mark per number, stamped with the
 * count in progress, so a union of 300k members is one pass with no hashing. Keys (members the
 * dictionary does not hold yet) are few and go through a Set.
 */
export class DistinctCounter {
  private marks = new Int32Array(1024);
  private stamp = 0;

  count(numberLists: Iterable<ArrayLike<number>>, keyLists: Iterable<readonly string[]>): number {
    const stamp = ++this.stamp;
    let distinct = 0;
    for (const numbers of numberLists) {
      for (let index = 0; index < numbers.length; index++) {
        const number = numbers[index] as number;
        if (number >= this.marks.length) this.grow(number);
        if (this.marks[number] !== stamp) {
          this.marks[number] = stamp;
          distinct++;
        }
      }
    }
    const keys = new Set<string>();
    for (const list of keyLists) for (const key of list) keys.add(key);
    return distinct + keys.size;
  }

  private grow(number: number): void {
    const marks = new Int32Array(Math.max(number + 1, this.marks.length * 2));
    marks.set(this.marks);
    this.marks = marks;
  }
}

/**
 * Postgres's percentile_cont over already sorted values, with its arithmetic (row positions
 * floor and ceil of f * (n - 1), then lo + f' * (hi - lo)), so both paths give the same doubles.
 */
export function percentilesCont(sorted: Float64Array, fractions: readonly number[]): number[] | null {
  if (sorted.length === 0) return null;
  return fractions.map((fraction) => {
    const position = fraction * (sorted.length - 1);
    const first = Math.floor(position);
    const second = Math.ceil(position);
    const low = sorted[first] as number;
    if (first === second) return low;
    return low + (position - first) * ((sorted[second] as number) - low);
  });
}

function sortedUnion(lists: ArrayLike<number>[]): Float64Array {
  const values = new Float64Array(lists.reduce((sum, list) => sum + list.length, 0));
  let offset = 0;
  for (const list of lists) {
    values.set(list, offset);
    offset += list.length;
  }
  return values.sort();
}

/** Unique users, PERFORMANCE and lag percentiles of each group. */
export function figuresByGroup(pieces: readonly MemberPiece[]): Map<string, GroupFigures> {
  const byGroup = new Map<string, MemberPiece[]>();
  for (const piece of pieces) {
    const group = byGroup.get(piece.group);
    if (group) group.push(piece);
    else byGroup.set(piece.group, [piece]);
  }
  const users = new DistinctCounter();
  const figures = new Map<string, GroupFigures>();
  for (const [group, members] of byGroup) {
    const performance = percentilesCont(sortedUnion(members.map((piece) => piece.performanceValues)), [0.5, 0.95, 0.99]);
    const lags = percentilesCont(sortedUnion(members.map((piece) => piece.lagsMs)), [0.5, 0.95]);
    figures.set(group, {
      eventCount: members.reduce((sum, piece) => sum + piece.eventCount, 0),
      firstSeen: members.reduce((first, piece) => Math.min(first, piece.firstSeen), Infinity),
      lastSeen: members.reduce((last, piece) => Math.max(last, piece.lastSeen), -Infinity),
      uniqueUsers: users.count(
        members.map((piece) => piece.userNumbers),
        members.map((piece) => piece.userKeys),
      ),
      performance: performance as [number, number, number] | null,
      lagMs: lags as [number, number] | null,
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
