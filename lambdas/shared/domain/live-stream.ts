import { z } from 'zod';
import type { StoredEvent } from './answer-schemas.js';
import type { Caller } from './caller.js';
import type { StreamedEvent } from './streamed-events.js';
import { EventTypeEnum, isPlainObject, storableText } from './event-schemas.js';
import { PropertyFilterSchema } from './query-schemas.js';
import { zodIssues } from './zod-issues.js';

/**
 * The live stream's protocol, shared by the local runtime's WebSocket server and the API
 * Gateway WebSocket API. A refusal closes the socket with one of these codes and a reason.
 */
export const STREAM_CLOSE = {
  /** A query parameter, the resume point or a client frame is not what the protocol allows. */
  badRequest: 4400,
  /** No credential, or one that does not verify. */
  unauthorized: 4401,
  /** The credential lacks `events:read`, or the request names another tenant. */
  forbidden: 4403,
} as const;

export const STREAM_SCOPE = 'events:read' as const;

/** API Gateway's WebSocket frame limit; the local server keeps to it too. */
export const MAX_STREAM_FRAME_BYTES = 32 * 1024;

export interface StreamFilter {
  types?: StoredEvent['type'][];
  categories?: string[];
  properties?: Record<string, unknown>;
}

/** What a subscriber asked for: its filter and, on a reconnect, the last event it saw. */
export interface StreamSubscription {
  filter: StreamFilter;
  after?: string;
}

export interface StreamRefusal {
  code: (typeof STREAM_CLOSE)[keyof typeof STREAM_CLOSE];
  reason: string;
}

const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()).filter((part) => part.length > 0))
    .pipe(z.array(item).min(1).max(100));

const propertiesJson = z.string().transform((text, ctx) => {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isPlainObject(parsed)) return parsed;
  } catch {
    // reported below, as for any text that is not an object
  }
  ctx.addIssue({ code: 'custom', message: 'must be a JSON object of property values' });
  return z.NEVER;
});

/** `token` is the credential (read before this, `stream-credential.ts`), `tenantId` only to be refused when foreign. */
const SubscriptionQuerySchema = z.strictObject({
  token: z.string().optional(),
  tenantId: z.string().optional(),
  types: commaList(EventTypeEnum).optional(),
  categories: commaList(storableText(100).min(1)).optional(),
  properties: propertiesJson.pipe(PropertyFilterSchema).optional(),
  after: z.uuid().optional(),
});

/**
 * The subscription of a caller from the query string of its upgrade request, or why it is
 * refused. A tenant comes only from the credential: a `tenantId` that is not the caller's is
 * refused rather than ignored, so a client learns it cannot watch another tenant.
 */
export function readSubscription(query: Record<string, string>, caller: Caller): StreamSubscription | StreamRefusal {
  if (!caller.scopes.includes(STREAM_SCOPE)) return { code: STREAM_CLOSE.forbidden, reason: `the stream needs the scope ${STREAM_SCOPE}` };
  if (query['tenantId'] !== undefined && query['tenantId'] !== caller.tenantId) {
    return { code: STREAM_CLOSE.forbidden, reason: 'tenantId: the stream serves only the tenant of the credential' };
  }
  const parsed = SubscriptionQuerySchema.safeParse(query);
  if (!parsed.success) {
    const reason = zodIssues(parsed.error).map((issue) => `${issue.path || 'query'}: ${issue.message}`).join('; ');
    return { code: STREAM_CLOSE.badRequest, reason: truncateReason(reason) };
  }
  const { types, categories, properties, after } = parsed.data;
  return { filter: { types, categories, properties }, ...(after ? { after } : {}) };
}

export const isRefusal = <T extends object>(value: T | StreamRefusal): value is StreamRefusal => 'code' in value;

/** A close reason is at most 123 bytes (RFC 6455: 125 for the payload, 2 of them the code). */
export function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.byteLength <= 123 ? reason : `${bytes.subarray(0, 120).toString().replace(/\uFFFD$/, '')}...`;
}

/** Equality as the query filter has it: nested objects on the keys given, arrays exactly. */
function contains(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, index) => contains(actual[index], item) && contains(item, actual[index]));
  }
  if (isPlainObject(expected)) {
    return isPlainObject(actual) && Object.entries(expected).every(([key, value]) => Object.hasOwn(actual, key) && contains(actual[key], value));
  }
  return actual === expected;
}

export function matchesFilter(event: Pick<StoredEvent, 'type' | 'category' | 'properties'>, filter: StreamFilter): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.categories && !filter.categories.includes(event.category)) return false;
  return filter.properties === undefined || contains(event.properties, filter.properties);
}

/**
 * The same text for equal filters (as `readSubscription` makes them): a fan-out filters and
 * frames a delivery once per distinct filter, not once per subscriber.
 */
export const filterKey = (filter: StreamFilter): string => JSON.stringify(filter);

/** The events a filter takes, in order; all of them, uncopied, for a subscriber without one. */
export function eventsOfFilter<T extends Pick<StoredEvent, 'type' | 'category' | 'properties'>>(events: readonly T[], filter: StreamFilter): readonly T[] {
  if (filter.types === undefined && filter.categories === undefined && filter.properties === undefined) return events;
  return events.filter((event) => matchesFilter(event, filter));
}

/** What the server sends; every message is one JSON text frame. */
export type StreamMessage =
  | { type: 'subscribed'; filter: StreamFilter }
  | { type: 'events'; events: StoredEvent[] }
  /** One stored event too large for a frame of its own: read it with `GET /v1/events/{eventId}`. */
  | { type: 'event-too-large'; eventId: string }
  /** Events this subscriber lost since its last message, and in all, because it read too slowly. */
  | { type: 'dropped'; count: number; total: number }
  /** After a resume: `complete` is false when the last event seen is no longer in the recent buffer. */
  | { type: 'resumed'; after: string; replayed: number; complete: boolean }
  | { type: 'pong' }
  /** In AWS, before the connection is closed: API Gateway cannot close a socket with a code of ours. */
  | { type: 'error'; code: StreamRefusal['code']; reason: string };

const EVENTS_ENVELOPE_BYTES = Buffer.byteLength(JSON.stringify({ type: 'events', events: [] }));

/**
 * Messages of at most `maxBytes` each carrying the events in order: a batch is split where the
 * next event would not fit. An event alone over the limit becomes a pointer to its GET.
 */
export function frameEvents(events: readonly StreamedEvent[], maxBytes = MAX_STREAM_FRAME_BYTES): string[] {
  const frames: string[] = [];
  let pending: string[] = [];
  let size = EVENTS_ENVELOPE_BYTES;
  const flush = () => {
    if (pending.length > 0) frames.push(`{"type":"events","events":[${pending.join(',')}]}`);
    pending = [];
    size = EVENTS_ENVELOPE_BYTES;
  };
  for (const event of events) {
    const { json } = event;
    const bytes = Buffer.byteLength(json);
    if (EVENTS_ENVELOPE_BYTES + bytes > maxBytes) {
      flush();
      frames.push(JSON.stringify({ type: 'event-too-large', eventId: event.eventId } satisfies StreamMessage));
      continue;
    }
    // One comma between events.
    if (size + bytes + (pending.length > 0 ? 1 : 0) > maxBytes) flush();
    size += bytes + (pending.length > 0 ? 1 : 0);
    pending.push(json);
  }
  flush();
  return frames;
}

/** What a client may send: a ping, or a resume from the last event it saw. */
export type ClientFrame = { action: 'ping' } | { action: 'resume'; after: string };

const ClientFrameSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('ping') }),
  z.strictObject({ action: z.literal('resume'), after: z.uuid() }),
]);

/** A client frame is JSON `{"action":"ping"}` or `{"action":"resume","after":"<eventId>"}`; anything else is a malformed frame. */
export function readClientFrame(text: string): ClientFrame | StreamRefusal {
  try {
    const parsed = ClientFrameSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // a frame that is not JSON is refused below
  }
  return { code: STREAM_CLOSE.badRequest, reason: 'malformed frame: a client sends {"action":"ping"} or {"action":"resume","after":"<eventId>"}' };
}

/**
 * The deployed stream's resume reads Postgres (there is no buffer shared by the writer's
 * containers): at most as many events as the local buffer holds, the same 1,000.
 */
export const RESUME_MAX_EVENTS = 1_000;

/**
 * How much older than the resume point's `storedAt` a replayed event's `timestamp` may be.
 * Events are indexed by timestamp, not by storage time, so the replay reads the tenant's
 * timestamps from this far back: a late event (an offline client's backlog, a DLQ replay, a
 * queue backlog longer than this) is not replayed, as the query API by timestamp would miss it.
 */
export const RESUME_LATENESS_MS = 15 * 60_000;

/**
 * A delivery whose subscriber lookup ran before the `$connect` row was written was not posted
 * to the new connection even if its transaction began just after `connectedAt`: the replay
 * reaches this far past it, so such events may arrive twice (same `eventId`) rather than never.
 */
export const RESUME_CONNECT_OVERLAP_MS = 1_000;
