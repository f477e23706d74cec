import { z } from 'zod';
import { EventTypeEnum, storableText, type EventType } from './event-schemas.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/** One key's events of one minute. */
export interface MinuteCount {
  /** The minute's start, ISO 8601 UTC. */
  minute: string;
  type: string;
  category: string;
  count: number;
}

/** What the writer stored for one tenant in one delivery, counted per UTC minute, type and category. */
export interface CounterDelta {
  /** Unique for ever: a counter adds a delta once, however often it is flushed. */
  deltaId: string;
  tenantId: string;
  counts: MinuteCount[];
}

export type CounterGranularity = 'minute' | 'hour';

export interface LiveCount {
  /** The start of the minute (or hour), ISO 8601 UTC. */
  minute: string;
  type: EventType;
  category: string;
  count: number;
}

export interface LiveCounterSettings {
  /** Counter items per key: one busy tenant's writes spread over this many partition keys. */
  shards: number;
  /** How long a counter lives after its period ends; the longest window a read may ask for. */
  ttlHours: number;
}

const PERIOD_MS: Record<CounterGranularity, number> = { minute: MINUTE_MS, hour: HOUR_MS };

/** The start of the minute or hour `instant` falls in (UTC), in ms. */
export const periodStart = (instantMs: number, granularity: CounterGranularity): number => instantMs - (((instantMs % PERIOD_MS[granularity]) + PERIOD_MS[granularity]) % PERIOD_MS[granularity]);

/**
 * The shard a delta's counters live on: from its id, so every flush of the delta writes the
 * same items, and a tenant's deliveries spread over the shards.
 */
export function shardOf(deltaId: string, shards: number): number {
  return Number.parseInt(deltaId.replace(/-/g, '').slice(-8), 16) % shards;
}

/**
 * The part of a counter item a key is counted in: a tenant's keys of one period and shard are
 * spread over this many items, so that one holds at most a share of them (an item holds at most
 * 400 KB) while a delivery still writes few items.
 */
export const KEY_PARTS = 4;
export function keyPartOf(type: string, category: string): number {
  let hash = 0;
  for (const char of `${type}#${category}`) hash = (Math.imul(hash, 31) + (char.codePointAt(0) ?? 0)) >>> 0;
  return hash % KEY_PARTS;
}

/** When DynamoDB may remove a counter (epoch seconds): `ttlHours` after its period ends. */
export function counterExpiry(periodStartMs: number, granularity: CounterGranularity, ttlHours: number): number {
  return Math.ceil((periodStartMs + PERIOD_MS[granularity] + ttlHours * HOUR_MS) / 1000);
}

/**
 * A delta whose minute counter is past its expiry (less a margin for the clocks of DynamoDB's
 * TTL sweeper and of this process) is dropped, not applied: its counter may be gone, and the
 * marks that make a second application harmless with it.
 */
export const EXPIRY_MARGIN_MS = 5 * MINUTE_MS;
export function isExpired(count: Pick<MinuteCount, 'minute'>, nowMs: number, ttlHours: number): boolean {
  return counterExpiry(Date.parse(count.minute), 'minute', ttlHours) * 1000 - EXPIRY_MARGIN_MS <= nowMs;
}

const commaList = <Item extends z.ZodType<unknown, string>>(item: Item, max: number) =>
  z
    .string()
    .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(item).max(max))
    .optional();

/** GET /v1/counters/live?window=60m&types=ERROR,SECURITY&categories=checkout */
export const LiveCounterQuerySchema = z.strictObject({
  window: z
    .string()
    .regex(/^[1-9]\d{0,5}[mh]$/, 'must be a duration in minutes or hours, such as 60m or 2h')
    .default('60m')
    .describe('The last minutes to count, the current one included: `<n>m` or `<n>h`, at most the counters TTL'),
  types: commaList(EventTypeEnum, 7).describe('Comma list of event types; all when absent'),
  categories: commaList(storableText(100).min(1), 100).describe('Comma list of categories; all when absent'),
});
export type LiveCounterQuery = z.output<typeof LiveCounterQuerySchema>;

/** `60m` -> 60, `2h` -> 120. */
export const windowMinutes = (window: string): number => Number(window.slice(0, -1)) * (window.endsWith('h') ? 60 : 1);

/** The `minutes` last minutes up to and including the one `nowMs` is in: `from` inclusive, `to` exclusive. */
export function liveWindow(nowMs: number, minutes: number): { from: number; to: number } {
  const to = periodStart(nowMs, 'minute') + MINUTE_MS;
  return { from: to - minutes * MINUTE_MS, to };
}

/**
 * Every minute of the window for every (type, category) that has a count in it, zeros filled
 * in, ordered by minute, type and category: a chart draws each series without gaps. A series
 * with no event in the window has no entries.
 */
export function fillMinutes(counts: LiveCount[], window: { from: number; to: number }): LiveCount[] {
  const byKey = new Map<string, Map<number, number>>();
  for (const count of counts) {
    const minute = Date.parse(count.minute);
    if (minute < window.from || minute >= window.to) continue;
    const key = JSON.stringify([count.type, count.category]);
    const minutes = byKey.get(key) ?? new Map<number, number>();
    minutes.set(minute, (minutes.get(minute) ?? 0) + count.count);
    byKey.set(key, minutes);
  }
  const keys = [...byKey.keys()].sort();
  const filled: LiveCount[] = [];
  for (let minute = window.from; minute < window.to; minute += MINUTE_MS) {
    for (const key of keys) {
      const [type, category] = JSON.parse(key) as [EventType, string];
      filled.push({ minute: new Date(minute).toISOString(), type, category, count: byKey.get(key)?.get(minute) ?? 0 });
    }
  }
  return filled;
}
