/** Periods, time zones and how instants are written. */
export interface Period {
  key: string;
  label: string;
  ms: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const PERIODS: Period[] = [
  { key: '1h', label: 'Last hour', ms: HOUR },
  { key: '24h', label: 'Last 24 hours', ms: DAY },
  { key: '7d', label: 'Last 7 days', ms: 7 * DAY },
  { key: '30d', label: 'Last 30 days', ms: 30 * DAY },
  { key: '90d', label: 'Last 90 days', ms: 90 * DAY },
];

export type Granularity = 'minute' | 'hour' | 'day';

export interface Range {
  start: number;
  end: number;
  /** How the range is named on the page ("Last 30 days", or its two ends). */
  label: string;
}

/** A bucket size that gives a chart between about 24 and 180 points. */
export function granularityFor(spanMs: number): Granularity {
  if (spanMs <= 3 * HOUR) return 'minute';
  if (spanMs <= 8 * DAY) return 'hour';
  return 'day';
}

export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function zoneNames(current: string): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const names = intl.supportedValuesOf?.('timeZone') ?? [];
  return [...new Set(['UTC', current, browserZone(), ...names])];
}

export function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
function offsetAt(instant: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((item) => item.type === type)?.value ?? 0);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second')) - Math.floor(instant / 1000) * 1000;
}

/** `2026-11-30T14:00` read as a wall-clock time in `zone`, as an instant (NaN if not a time). */
export function fromLocalInput(value: string, zone: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!match) return NaN;
  const [, y, mo, d, hh, mm] = match.map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, hh, mm);
  const first = wall - offsetAt(wall, zone);
  return wall - offsetAt(first, zone);
}

/** An instant as the value of a datetime-local input in `zone`. */
export function toLocalInput(instant: number, zone: string): string {
  const local = new Date(instant + offsetAt(instant, zone));
  return local.toISOString().slice(0, 16);
}

/**
 * The range the URL's `period` (or `from`/`to`, with `period=custom`) names, ending now, or at
 * `until` when the URL pins it: a cursor is valid only for the range it was read with, so a
 * page link keeps its range.
 */
export function rangeOf(params: URLSearchParams, zone: string, clock = Date.now()): Range {
  const until = Date.parse(params.get('until') ?? '');
  const now = Number.isFinite(until) ? until : clock;
  const key = params.get('period') ?? '30d';
  if (key === 'custom') {
    const start = fromLocalInput(params.get('from') ?? '', zone);
    const end = fromLocalInput(params.get('to') ?? '', zone);
    if (Number.isFinite(start) && Number.isFinite(end) && end > start) return { start, end, label: `${formatInstant(start, zone)} – ${formatInstant(end, zone)}` };
  }
  const period = PERIODS.find((candidate) => candidate.key === key) ?? (PERIODS[3] as Period);
  return { start: now - period.ms, end: now, label: period.label };
}

export function formatInstant(instant: number | string, zone: string, withSeconds = false): string {
  const date = typeof instant === 'number' ? new Date(instant) : new Date(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', ...(withSeconds ? { second: '2-digit' } : {}) }).format(date);
}

export const iso = (instant: number): string => new Date(instant).toISOString();

export function formatNumber(value: number): string {
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: value < 10 ? 2 : value < 1000 ? 1 : 0 }).format(value);
}

export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value >= 10_000 ? `${formatNumber(value / 1000)} s` : `${formatNumber(value)} ms`;
}

/** The change from `previous` to `current`, in words a screen reader reads as well as a sighted user. */
export function change(current: number, previous: number): { text: string; direction: 'up' | 'down' | 'flat' } {
  if (previous === 0) return current === 0 ? { text: 'none in either period', direction: 'flat' } : { text: 'none in the previous period', direction: 'up' };
  const ratio = (current - previous) / previous;
  if (Math.abs(ratio) < 0.0005) return { text: 'same as the previous period', direction: 'flat' };
  return { text: `${ratio > 0 ? '+' : '−'}${formatNumber(Math.abs(ratio) * 100)}% vs the previous period`, direction: ratio > 0 ? 'up' : 'down' };
}
