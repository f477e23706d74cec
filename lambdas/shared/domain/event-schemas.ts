import { z } from 'zod';
import { MAX_BATCH_EVENTS, MAX_PROPERTY_DEPTH, MAX_PROPERTY_KEYS } from './limits.js';

/**
 * Postgres text and jsonb refuse NUL and lone UTF-16 surrogates; a string that reached the
 * writer with either would poison its SQS batch, so they are refused at the door.
 */
export function isStorableText(value: string): boolean {
  return value.isWellFormed() && !value.includes('\u0000');
}

const UNSTORABLE_TEXT = 'must be valid Unicode without NUL characters';

export const storableText = (max: number) => z.string().max(max).refine(isStorableText, UNSTORABLE_TEXT);

/**
 * What `storableText(max)` says of a string, for code that checks by hand what a schema would:
 * undefined when it passes.
 */
export function storableTextIssue(value: string, max: number): string | undefined {
  if (value.length > max) return `must be at most ${max} characters`;
  return isStorableText(value) ? undefined : UNSTORABLE_TEXT;
}

/** Why a JSON value cannot be stored, and where: the path below the value checked. */
export interface UnstorableJson {
  path: Array<string | number>;
  message: string;
}

/**
 * Returns the first reason a JSON value cannot be stored as jsonb safely, or undefined: bad
 * text, a number beyond a double (`1e400` parses as Infinity, which JSON.stringify writes as
 * null), nesting deeper than the limit, or more object keys in all than `maxKeys`. One walk.
 */
export function findUnstorableJson(value: unknown, maxKeys = Infinity): UnstorableJson | undefined {
  let keys = 0;
  // The path is built on the way out, so that the usual walk, which finds nothing, allocates none.
  const walk = (current: unknown, depth: number): UnstorableJson | undefined => {
    if (typeof current === 'string') {
      return isStorableText(current) ? undefined : { path: [], message: 'strings must be valid Unicode without NUL characters' };
    }
    if (typeof current === 'number') return Number.isFinite(current) ? undefined : { path: [], message: 'is not a finite number' };
    if (current === null || typeof current !== 'object') return undefined;
    if (depth >= MAX_PROPERTY_DEPTH) return { path: [], message: `nesting deeper than ${MAX_PROPERTY_DEPTH} levels` };
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length; index++) {
        const reason = walk(current[index], depth + 1);
        if (reason) {
          reason.path.unshift(index);
          return reason;
        }
      }
      return undefined;
    }
    // Keys, not entries: no pair array per key, in a walk over every property of every event.
    const object = current as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (++keys > maxKeys) return { path: [], message: `more than ${maxKeys} keys` };
      if (!isStorableText(key)) return { path: [], message: 'keys must be valid Unicode without NUL characters' };
      const reason = walk(object[key], depth + 1);
      if (reason) {
        reason.path.unshift(key);
        return reason;
      }
    }
    return undefined;
  };
  return walk(value, 0);
}

/** The longest a number serialises to in JSON (`-2.2250738585072014e-308`), with a margin. */
const NUMBER_JSON_BYTES = 25;

/**
 * An upper bound of `Buffer.byteLength(JSON.stringify(value))`, by one walk that builds no
 * string: a UTF-16 unit serialises to at most 6 bytes (`\u001f`), a number to 25, `false` to 5.
 * When the bound is under a limit, the exact size need not be taken; a value close to it is
 * serialised to settle. For values `findUnstorableJson` passed (bounded depth).
 */
export function jsonBytesAtMost(value: unknown): number {
  if (typeof value === 'string') return 2 + 6 * value.length;
  if (typeof value === 'number') return NUMBER_JSON_BYTES;
  if (value === null || typeof value !== 'object') return 5;
  let bytes = 2;
  if (Array.isArray(value)) {
    for (const item of value) bytes += jsonBytesAtMost(item) + 1;
    return bytes;
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) bytes += 4 + 6 * key.length + jsonBytesAtMost(object[key]);
  return bytes;
}

export const isoDateTime = z.iso.datetime({ offset: true });

export const EventTypeEnum = z.enum([
  'USER_ACTION',
  'SYSTEM_EVENT',
  'ERROR',
  'PERFORMANCE',
  'BUSINESS',
  'SECURITY',
  'CUSTOM',
]);
export type EventType = z.infer<typeof EventTypeEnum>;

export const EventContextSchema = z.strictObject({
  correlationId: z.uuid().optional(),
  page: storableText(255).optional(),
  referrer: storableText(255).optional(),
  userAgent: storableText(500).optional(),
  ipAddress: z.union([z.ipv4(), z.ipv6()]).optional(),
  locale: storableText(10).optional(),
  timezone: storableText(50).optional(),
  deviceType: z.enum(['desktop', 'mobile', 'tablet']).optional(),
  browser: storableText(100).optional(),
  os: storableText(100).optional(),
});
export type EventContext = z.infer<typeof EventContextSchema>;

export const SeverityEnum = z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);

export const EventMetadataSchema = z.strictObject({
  source: storableText(100).optional(),
  version: storableText(20).optional(),
  environment: z.enum(['development', 'staging', 'production']).optional(),
  severity: SeverityEnum.optional(),
});

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Free-form key-value pairs. Not `z.record`: it rebuilds the object by assignment, which
 * silently drops a key named `__proto__`; every key a client sends is data and is kept.
 */
export const PropertiesSchema = z
  .custom<Record<string, unknown>>(isPlainObject, 'expected an object of key-value pairs')
  .superRefine((properties, ctx) => {
    const reason = findUnstorableJson(properties, MAX_PROPERTY_KEYS);
    if (reason) ctx.addIssue({ code: 'custom', ...reason });
  });

/** The longest text an event's fields hold, in UTF-16 units as zod counts them. */
export const EVENT_TEXT_LIMITS = { category: 100, action: 100, label: 255, sessionId: 64 } as const;

/** What an event is about, sent and stored alike. */
const eventKind = { type: EventTypeEnum, category: storableText(EVENT_TEXT_LIMITS.category).min(1), action: storableText(EVENT_TEXT_LIMITS.action).min(1) };

/** One event as a client sends it (the specification's schema, dates as ISO strings). */
export const AnalyticsEventSchema = z.strictObject({
  id: z.uuid().optional(),
  ...eventKind,
  label: storableText(EVENT_TEXT_LIMITS.label).optional(),
  value: z.number().optional(),
  userId: z.uuid().optional(),
  sessionId: storableText(EVENT_TEXT_LIMITS.sessionId).optional(),
  properties: PropertiesSchema.default({}),
  context: EventContextSchema.optional(),
  metadata: EventMetadataSchema.optional(),
  timestamp: isoDateTime.optional(),
});
export type AnalyticsEventInput = z.infer<typeof AnalyticsEventSchema>;

/** The batch as documented; items are validated one by one so that each gets its own receipt. */
export const BatchEventsSchema = z.strictObject({
  events: z.array(AnalyticsEventSchema).min(1).max(MAX_BATCH_EVENTS),
  sentAt: isoDateTime.optional(),
});

/** The batch as parsed: the envelope first, then every item on its own. */
export const BatchEnvelopeSchema = BatchEventsSchema.extend({
  events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS),
});

/** An event after validation, type rules and masking: what is queued and stored. */
export const TrackedEventSchema = z.strictObject({
  eventId: z.uuid(),
  timestamp: isoDateTime,
  ...eventKind,
  label: storableText(EVENT_TEXT_LIMITS.label).nullable(),
  value: z.number().nullable(),
  userId: z.uuid().nullable(),
  sessionId: storableText(EVENT_TEXT_LIMITS.sessionId).nullable(),
  properties: PropertiesSchema,
  context: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  receivedAt: isoDateTime,
});
export type TrackedEvent = z.infer<typeof TrackedEventSchema>;
