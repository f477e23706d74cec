const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * An inclusive range [start, end] cut where the rollups can answer it: whole UTC days in
 * [dayStart, dayEnd), whole UTC hours in [hourStart, hourEnd) outside those days, and the
 * partial hours [start, hourStart) and [hourEnd, end], which only the events can answer.
 * Empty pieces have equal bounds.
 */
export interface RollupSplit {
  hourStart: string;
  hourEnd: string;
  dayStart: string;
  dayEnd: string;
}

const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;
const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;
const iso = (ms: number) => new Date(ms).toISOString();

/** `useDays`: whether day rollups may stand in for 24 hour rollups (buckets that follow UTC days). */
export function splitForRollups(range: { startTime: string; endTime: string }, useDays: boolean): RollupSplit {
  const start = Date.parse(range.startTime);
  const end = Date.parse(range.endTime);
  const hourStart = ceilTo(start, HOUR_MS);
  // An hour is whole when it ends at or before `end`; the hour starting at `end` holds only `end`.
  const hourEnd = floorTo(end, HOUR_MS);
  if (hourStart >= hourEnd) return { hourStart: iso(start), hourEnd: iso(start), dayStart: iso(start), dayEnd: iso(start) };
  const dayStart = ceilTo(hourStart, DAY_MS);
  const dayEnd = floorTo(hourEnd, DAY_MS);
  if (!useDays || dayStart >= dayEnd) return { hourStart: iso(hourStart), hourEnd: iso(hourEnd), dayStart: iso(hourStart), dayEnd: iso(hourStart) };
  return { hourStart: iso(hourStart), hourEnd: iso(hourEnd), dayStart: iso(dayStart), dayEnd: iso(dayEnd) };
}

/**
 * The whole days of a split alone, its partial days left to the edges (`hourStart` = `dayStart`,
 * `hourEnd` = `dayEnd`): what the sets per day and key (which have no hours) can answer. A split
 * without a whole day keeps none.
 */
export function daysOnly(split: RollupSplit): RollupSplit {
  if (split.dayStart >= split.dayEnd) return { hourStart: split.hourStart, hourEnd: split.hourStart, dayStart: split.hourStart, dayEnd: split.hourStart };
  return { hourStart: split.dayStart, hourEnd: split.dayEnd, dayStart: split.dayStart, dayEnd: split.dayEnd };
}

/**
 * The UTC days that hold a split's partial pieces (its hours outside whole days, and the edges
 * of `range`), as ranges `[from, to)` of day starts: before its whole days and after them,
 * either possibly empty. A day's rollup holds every category and action of any piece of it.
 */
export function partialDays(range: { startTime: string; endTime: string }, split: RollupSplit): [[string, string], [string, string]] {
  const first = floorTo(Date.parse(range.startTime), DAY_MS);
  // The range's end is inclusive: the day of `end` is partial unless `end` is its last ms.
  const last = ceilTo(Date.parse(range.endTime) + 1, DAY_MS);
  const hasDays = split.dayStart < split.dayEnd;
  // Without whole days every piece is partial: the covering days, cut anywhere inside them.
  const before = hasDays ? Date.parse(split.dayStart) : Math.min(ceilTo(Date.parse(range.startTime), DAY_MS), last);
  const after = hasDays ? Date.parse(split.dayEnd) : before;
  return [
    [iso(first), iso(before)],
    [iso(after), iso(last)],
  ];
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
/**
 * Zone names are taken in any case and as links, so a caller can make up any number of names
 * (`europe/LONDON`...); the cache starts over past this many rather than grow without bound.
 */
const MAX_CACHED_ZONES = 1000;

/** Minutes east of UTC of `zone` at `ms`, from Intl's "GMT+05:30" form (seconds as a fraction: old local mean times, "GMT+01:00:12"). */
function offsetMinutes(zone: string, ms: number): number {
  let format = offsetFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    if (offsetFormats.size >= MAX_CACHED_ZONES) offsetFormats.clear();
    offsetFormats.set(zone, format);
  }
  const name = format.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(name);
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]) + Number(match[4] ?? 0) / 60);
}

/**
 * The offsets of `zone` over the range. Sampled every 6 hours: an offset lasts months between
 * DST changes, so no offset in force for a whole day can be missed.
 */
function offsetsOver(zone: string, range: { startTime: string; endTime: string }): Set<number> {
  const start = Date.parse(range.startTime);
  const end = Date.parse(range.endTime);
  const offsets = new Set<number>([offsetMinutes(zone, end)]);
  for (let at = start; at < end; at += 6 * HOUR_MS) offsets.add(offsetMinutes(zone, at));
  return offsets;
}

/**
 * Which rollups can build local buckets of `zone` over the range: UTC hours fit inside local
 * hours, days, weeks and months when every offset is a whole number of hours (not India's
 * +05:30); UTC days fit inside local days only where the offset stays zero.
 */
export function rollupFit(zone: string, range: { startTime: string; endTime: string }): { hours: boolean; days: boolean } {
  const offsets = [...offsetsOver(zone, range)];
  return { hours: offsets.every((offset) => offset % 60 === 0), days: offsets.every((offset) => offset === 0) };
}

/** How far before a range's start the local bucket holding that start can begin. */
const BIN_REACH_MS = { minute: 0, hour: 0, day: DAY_MS, week: 7 * DAY_MS } as const;

/**
 * Whether the local buckets of `zone` are fixed-width UTC bins over the range, so that
 * `date_bin` gives the same buckets as `date_trunc` in the zone: minutes and hours where every
 * offset is a whole number of hours (an hour keeps its instant's offset across DST), days and
 * weeks where the offset is zero from the earliest local midnight the first bucket can start
 * at (before the range: London's first day after the October change starts in summer time).
 */
export function bucketsAreUtcBins(zone: string, range: { startTime: string; endTime: string }, granularity: string): boolean {
  if (!(granularity in BIN_REACH_MS)) return false;
  const reach = BIN_REACH_MS[granularity as keyof typeof BIN_REACH_MS];
  const fit = rollupFit(zone, { startTime: new Date(Date.parse(range.startTime) - reach).toISOString(), endTime: range.endTime });
  return reach === 0 ? fit.hours : fit.days;
}

/**
 * How long after its end a period counts as settled: deliveries a few seconds late still land
 * in it, and a set built before them would be built again.
 */
export const SETTLE_MS = 60_000;

/**
 * The whole hours and whole UTC days whose event sets are kept after a write of events in
 * [from, to] (epoch ms): those the events touched, and the last hour and day that settled by
 * `now`, touched or not (their last events came before they settled). Never one that has not
 * settled: its sets would go stale with the next delivery. Each split is of one level, as
 * `splitClauses` reads it: hours only (no days), or days only (both hour ranges empty).
 */
export function keptPeriods(touched: { from: number; to: number }, now: number): RollupSplit[] {
  const settled = now - SETTLE_MS;
  const splits: RollupSplit[] = [];
  for (const unit of [HOUR_MS, DAY_MS]) {
    const lastSettled = floorTo(settled, unit);
    const last: [number, number] = [lastSettled - unit, lastSettled];
    const start = floorTo(touched.from, unit);
    const end = Math.min(floorTo(touched.to, unit) + unit, lastSettled);
    // No settled period touched; touched ones that reach the last settled one, joined; or both apart.
    const ranges: Array<[number, number]> = end <= start ? [last] : end >= last[0] ? [[Math.min(start, last[0]), lastSettled]] : [[start, end], last];
    for (const [from, to] of ranges) {
      splits.push(unit === HOUR_MS
        ? { hourStart: iso(from), hourEnd: iso(to), dayStart: iso(from), dayEnd: iso(from) }
        : { hourStart: iso(from), hourEnd: iso(to), dayStart: iso(from), dayEnd: iso(to) });
    }
  }
  return splits;
}

/**
 * The fewest half-open ranges `[from, to)` (epoch ms) that cover `ranges` exactly: overlapping
 * and touching ones merged, in order. An event read through them is read once, whichever of
 * the ranges it falls in.
 */
export function coveringRanges(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const merged: Array<[number, number]> = [];
  for (const [from, to] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}
