import { hash as digest } from 'node:crypto';
import { z } from 'zod';
import type { SegmentSettings } from './answer-schemas.js';
import type { FieldIssue } from './errors.js';
import {
  EVENT_TEXT_LIMITS,
  EventContextSchema,
  EventTypeEnum,
  findUnstorableJson,
  isoDateTime,
  isPlainObject,
  jsonBytesAtMost,
  storableTextIssue,
  type AnalyticsEventInput,
  type EventContext,
  type EventType,
} from './event-schemas.js';
import { MAX_EVENT_BYTES, MAX_PROPERTY_KEYS, SEGMENT_MAX_BATCH_EVENTS, SEGMENT_MAX_MESSAGE_ID_CHARS } from './limits.js';

/**
 * Segment's HTTP Tracking API, as its SDKs speak it, mapped onto our event model. Pure: the
 * use case (`use-cases/track-segment.ts`) authenticates, rate-limits and queues.
 */

export const SEGMENT_CALLS = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export type SegmentCall = (typeof SEGMENT_CALLS)[number];

/** Every path a Segment SDK posts to; analytics-next uses the one-letter forms. */
export const SEGMENT_PATHS: Readonly<Record<string, SegmentCall | 'batch'>> = {
  '/v1/batch': 'batch',
  '/v1/b': 'batch',
  '/v1/track': 'track',
  '/v1/t': 'track',
  '/v1/page': 'page',
  '/v1/p': 'page',
  '/v1/screen': 'screen',
  '/v1/s': 'screen',
  '/v1/identify': 'identify',
  '/v1/i': 'identify',
  '/v1/group': 'group',
  '/v1/g': 'group',
  '/v1/alias': 'alias',
  '/v1/a': 'alias',
};

const jsonObject = z.custom<Record<string, unknown>>(isPlainObject, 'expected an object');

/**
 * One Segment message. Loose: Segment's API ignores top-level fields it does not know
 * (`_metadata`, `channel`, `writeKey`), and so do we; the fields we read are checked. This is
 * the documented shape (OpenAPI); every message is checked by `readSegmentMessage`, which
 * agrees with it field by field (a property test holds the two together) without copying.
 */
export const SegmentMessageSchema = z.looseObject({
  type: z.enum(SEGMENT_CALLS),
  messageId: z.string().min(1).max(SEGMENT_MAX_MESSAGE_ID_CHARS).optional(),
  userId: z.string().min(1).nullish(),
  anonymousId: z.string().min(1).nullish(),
  event: z.string().optional(),
  name: z.string().nullish(),
  category: z.string().nullish(),
  properties: jsonObject.optional(),
  traits: jsonObject.optional(),
  context: jsonObject.optional(),
  integrations: jsonObject.optional(),
  groupId: z.union([z.string(), z.number()]).nullish(),
  previousId: z.union([z.string(), z.number()]).nullish(),
  timestamp: isoDateTime.optional(),
  originalTimestamp: isoDateTime.optional(),
  sentAt: isoDateTime.optional(),
});
export type SegmentMessage = z.infer<typeof SegmentMessageSchema>;

/** What is wrong with one field's value, or undefined. */
type FieldCheck = (value: unknown) => string | undefined;

const optional =
  (check: FieldCheck): FieldCheck =>
  (value) =>
    value === undefined ? undefined : check(value);
const nullish =
  (check: FieldCheck): FieldCheck =>
  (value) =>
    value === undefined || value === null ? undefined : check(value);
const text =
  (min: number, max = Infinity): FieldCheck =>
  (value) => {
    if (typeof value !== 'string') return 'must be a string';
    if (value.length < min) return 'must not be empty';
    return value.length > max ? `must be at most ${max} characters` : undefined;
  };
const object: FieldCheck = (value) => (isPlainObject(value) ? undefined : 'expected an object');
const textOrNumber: FieldCheck = (value) => (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? undefined : 'must be a string or a number');
const dateTime: FieldCheck = (value) => (isoDateTime.safeParse(value).success ? undefined : 'must be an ISO 8601 date-time with an offset, such as 2026-01-01T00:00:00Z');
const call: FieldCheck = (value) => ((SEGMENT_CALLS as readonly unknown[]).includes(value) ? undefined : `must be one of ${SEGMENT_CALLS.join(', ')}`);

/** `SegmentMessageSchema`'s fields, as checks of the value each holds. */
const SEGMENT_FIELDS: ReadonlyArray<readonly [keyof SegmentMessage & string, FieldCheck]> = [
  ['type', call],
  ['messageId', optional(text(1, SEGMENT_MAX_MESSAGE_ID_CHARS))],
  ['userId', nullish(text(1))],
  ['anonymousId', nullish(text(1))],
  ['event', optional(text(0))],
  ['name', nullish(text(0))],
  ['category', nullish(text(0))],
  ['properties', optional(object)],
  ['traits', optional(object)],
  ['context', optional(object)],
  ['integrations', optional(object)],
  ['groupId', nullish(textOrNumber)],
  ['previousId', nullish(textOrNumber)],
  ['timestamp', optional(dateTime)],
  ['originalTimestamp', optional(dateTime)],
  ['sentAt', optional(dateTime)],
];

/**
 * A Segment message as `SegmentMessageSchema` accepts it, every bad field named, or its issues.
 * By hand rather than by the schema: every message of a 2,500-message batch passes here, and the
 * schema's parse copies the message to read sixteen fields.
 */
export function readSegmentMessage(raw: unknown): { ok: true; message: SegmentMessage } | { ok: false; issues: FieldIssue[] } {
  if (!isPlainObject(raw)) return { ok: false, issues: [{ path: '', message: 'expected an object, one Segment message' }] };
  const issues: FieldIssue[] = [];
  for (const [field, check] of SEGMENT_FIELDS) {
    const message = check(raw[field]);
    if (message !== undefined) issues.push({ path: field, message });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, message: raw as SegmentMessage };
}

/** The envelope of `/v1/batch`; items are checked one by one, so each gets its own result. */
export const SegmentBatchSchema = z.looseObject({
  batch: z.array(z.unknown()).min(1).max(SEGMENT_MAX_BATCH_EVENTS, `at most ${SEGMENT_MAX_BATCH_EVENTS} events per batch (Segment's limit)`),
  context: jsonObject.optional(),
  integrations: jsonObject.optional(),
  sentAt: isoDateTime.optional(),
  writeKey: z.string().optional(),
});
export type SegmentBatch = z.infer<typeof SegmentBatchSchema>;

/** A tenant's namespace bytes, parsed once per tenant a container sees (a few, not unbounded in practice). */
const namespaces = new Map<string, Buffer>();
function namespaceBytes(namespace: string): Buffer {
  let bytes = namespaces.get(namespace);
  if (!bytes) {
    bytes = Buffer.from(namespace.replaceAll('-', ''), 'hex');
    if (namespaces.size >= 10_000) namespaces.clear();
    namespaces.set(namespace, bytes);
  }
  return bytes;
}

/** The variant's hex digit: its two top bits set to 10 (RFC 9562), the low two kept. */
const VARIANT_DIGIT = '89ab89ab89ab89ab';

/**
 * The bytes a name is hashed in: the namespace, then the name, written in place. Every Segment
 * message pays one UUIDv5, and a buffer of its own per call (and their concatenation) was most
 * of its cost. A name that may not fit is hashed from buffers of its own.
 */
const scratch = Buffer.allocUnsafe(2048);
const SCRATCH_NAME_BYTES = scratch.length - 16;

/** RFC 9562 version 5: SHA-1 of a namespace and a name, so the same pair always gives the same id. */
export function uuidV5(namespace: string, name: string): string {
  let input: Buffer;
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so a name this short always fits.
  if (name.length * 3 <= SCRATCH_NAME_BYTES) {
    namespaceBytes(namespace).copy(scratch, 0);
    input = scratch.subarray(0, 16 + scratch.write(name, 16, 'utf8'));
  } else {
    input = Buffer.concat([namespaceBytes(namespace), Buffer.from(name, 'utf8')]);
  }
  // One-shot crypto.hash, straight to hex: half the time of createHash's object.
  const hex = digest('sha1', input, 'hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${VARIANT_DIGIT[parseInt(hex[16] as string, 16)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The event id of a message: the same messageId of the same tenant is the same event, so an
 * SDK's retry is stored once by the writer's dedupe. Another tenant's equal messageId is not.
 */
export const segmentEventId = (tenantId: string, messageId: string): string => uuidV5(tenantId, `segment:message:${messageId}`);

/**
 * User ids mapped lately, per tenant: an application sends many events of each user, and a
 * mapping is a SHA-1. Ids up to 128 characters only, so the cache stays small whatever is sent.
 */
const userUuids = new Map<string, string>();

/** Our user ids are UUIDs: a UUID is kept as it is, any other id becomes a stable one per tenant. */
export function segmentUserUuid(tenantId: string, userId: string): string {
  if (UUID.test(userId)) return userId.toLowerCase();
  if (userId.length > 128) return uuidV5(tenantId, `segment:user:${userId}`);
  const key = `${tenantId}/${userId}`;
  let uuid = userUuids.get(key);
  if (uuid === undefined) {
    uuid = uuidV5(tenantId, `segment:user:${userId}`);
    if (userUuids.size >= 10_000) userUuids.clear();
    userUuids.set(key, uuid);
  }
  return uuid;
}

/** Our sessionId holds 64 characters; a longer anonymousId is kept whole in metadata and shortened to a stable id. */
const sessionIdOf = (tenantId: string, anonymousId: string): string => (anonymousId.length <= 64 ? anonymousId : uuidV5(tenantId, `segment:anonymous:${anonymousId}`));

const CONTEXT_FIELDS = EventContextSchema.shape;

/** Sets our context field to a Segment value that fits it. */
function fitField(mapped: Record<string, unknown>, key: 'page' | 'referrer' | 'userAgent' | 'ipAddress' | 'locale' | 'timezone' | 'os' | 'deviceType', value: unknown): void {
  if (value !== undefined && value !== '' && CONTEXT_FIELDS[key].safeParse(value).success) mapped[key] = value;
}

/**
 * Segment's context fields that have a place in ours; a value that does not fit stays in
 * `context.segment` only. Read field by field: it runs for every message.
 */
function ourContext(context: Record<string, unknown>): EventContext {
  const mapped: Record<string, unknown> = {};
  const page = context['page'];
  if (isPlainObject(page)) {
    const url = page['url'];
    fitField(mapped, 'page', typeof url === 'string' && url.length > 255 ? page['path'] : url);
    fitField(mapped, 'referrer', page['referrer']);
  }
  fitField(mapped, 'userAgent', context['userAgent']);
  fitField(mapped, 'ipAddress', context['ip']);
  fitField(mapped, 'locale', context['locale']);
  fitField(mapped, 'timezone', context['timezone']);
  const os = context['os'];
  if (isPlainObject(os)) fitField(mapped, 'os', os['name']);
  const device = context['device'];
  if (isPlainObject(device)) fitField(mapped, 'deviceType', device['type']);
  // Each field passed its own schema in EventContextSchema, and only those fields were set.
  return mapped as EventContext;
}

/** What one message maps to: our event's input, and what only Segment has, for context and metadata. */
export interface MappedSegmentMessage {
  /** Our event's input, checked as `AnalyticsEventSchema` checks one, for `prepareValidEvent`. */
  event: AnalyticsEventInput;
  /** The client's send time of this message or its batch, for the clock-skew rule. */
  sentAt?: string;
  /**
   * Kept under `context.segment` and `metadata.segment`, masked like properties, but for `ids`,
   * kept exactly: the call and its messageId are ours to dedupe by (a masker would take the
   * digits of `node-next-1764646...` for a phone number). A userId or anonymousId stored
   * unchanged as our `userId` or `sessionId` is not repeated: the column is the original, and
   * the copy was two UUIDs (about 90 bytes, a seventh of a bench:segment message) each time.
   * A UUID userId in upper case is kept, exactly, since the column holds it lower-cased.
   */
  extras: { context: Record<string, unknown>; metadata: Record<string, unknown>; ids: SegmentIds };
  /** Where a complaint of the type rules or the timestamp about our field points in the message (`properties` is `traits` of an identify). */
  issuePaths: Record<string, string>;
}

/** What `metadata.segment` keeps exactly. */
export interface SegmentIds {
  type: SegmentCall;
  messageId?: string;
  userId?: string;
  anonymousId?: string;
}

export type SegmentOutcome = { ok: true; mapped: MappedSegmentMessage } | { ok: false; issues: FieldIssue[]; tooLarge?: boolean };

/** What a batch lends every message: Segment merges its context and integrations into each. */
export interface SegmentDefaults {
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
  sentAt?: string;
}

const stringProperty = (properties: Record<string, unknown>, key: string): string | undefined => {
  const value = properties[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};
const numberProperty = (properties: Record<string, unknown>, key: string): number | undefined => {
  const value = properties[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

/** Our type: `properties.eventType` when it names one, else USER_ACTION (a person did it). */
function typeOf(properties: Record<string, unknown>, propertiesPath: string): EventType | FieldIssue {
  const named = properties['eventType'];
  if (named === undefined) return 'USER_ACTION';
  const parsed = EventTypeEnum.safeParse(named);
  return parsed.success ? parsed.data : { path: `${propertiesPath}.eventType`, message: `must be one of ${EventTypeEnum.options.join(', ')}` };
}

/** Our category and action, and the Segment field each came from; the action falls back to the call's name, never empty. */
interface Kind {
  category: string;
  categoryPath: string;
  action: string;
  actionPath: string;
}

function kindOf(message: SegmentMessage, properties: Record<string, unknown>, propertiesPath: string): Kind {
  const category = stringProperty(properties, 'category') ?? message.type;
  const categoryPath = `${propertiesPath}.category`;
  switch (message.type) {
    case 'track':
      return { category, categoryPath, action: message.event ?? '', actionPath: 'event' };
    case 'page':
    case 'screen': {
      const action = message.name || stringProperty(properties, 'name') || message.type;
      const actionPath = message.name ? 'name' : `${propertiesPath}.name`;
      return message.category ? { category: message.category, categoryPath: 'category', action, actionPath } : { category, categoryPath, action, actionPath };
    }
    default:
      return { category: message.type, categoryPath: 'type', action: message.type, actionPath: 'type' };
  }
}

/** Adds the issue of a text field, checked as `storableText(max)` checks it. */
function checkText(issues: FieldIssue[], path: string, value: string, max: number): void {
  const message = storableTextIssue(value, max);
  if (message !== undefined) issues.push({ path, message });
}

/**
 * Maps one Segment message onto our event model (docs/architecture.md, "Segment-compatible
 * ingestion", has the table): event name -> action, `properties.category` or the call ->
 * category, `properties.eventType` or USER_ACTION -> type, userId -> a stable UUID per tenant,
 * anonymousId -> sessionId, traits of identify and group -> properties, `properties.label`,
 * `value` (or `revenue`) -> label and value. The originals are kept in `metadata.segment`.
 * One pass: the message is read without a copy, and our event is checked as it is built by the
 * rules of `AnalyticsEventSchema` (a property test holds the two together), each complaint
 * naming the Segment field, so it is not parsed again.
 */
export function mapSegmentMessage(raw: unknown, tenantId: string, defaults: SegmentDefaults = {}): SegmentOutcome {
  // 1. The fields we read; a message is at most 32 KB of a body of at most 500 KB, so this is bounded.
  const read = readSegmentMessage(raw);
  if (!read.ok) return read;
  const message = read.message;
  if (!message.userId && !message.anonymousId) return { ok: false, issues: [{ path: 'userId', message: 'a userId or an anonymousId is required' }] };
  if (message.type === 'track' && !message.event) return { ok: false, issues: [{ path: 'event', message: 'a track call needs an event name' }] };

  // 2. Our event, each field checked as AnalyticsEventSchema would; the ids are UUIDs by construction.
  const context = defaults.context ? { ...defaults.context, ...message.context } : (message.context ?? {});
  const traitsPath = message.traits ? 'traits' : 'context.traits';
  const traits = message.traits ?? (isPlainObject(context['traits']) ? context['traits'] : {});
  const ofTraits = message.type === 'identify' || message.type === 'group';
  const properties = ofTraits ? traits : (message.properties ?? {});
  const propertiesPath = ofTraits ? traitsPath : 'properties';
  const issues: FieldIssue[] = [];
  const type = typeOf(properties, propertiesPath);
  if (typeof type !== 'string') issues.push(type);
  const kind = kindOf(message, properties, propertiesPath);
  checkText(issues, kind.categoryPath, kind.category, EVENT_TEXT_LIMITS.category);
  checkText(issues, kind.actionPath, kind.action, EVENT_TEXT_LIMITS.action);
  const label = stringProperty(properties, 'label');
  if (label !== undefined) checkText(issues, `${propertiesPath}.label`, label, EVENT_TEXT_LIMITS.label);
  const sessionId = message.anonymousId ? sessionIdOf(tenantId, message.anonymousId) : undefined;
  if (sessionId !== undefined) checkText(issues, 'anonymousId', sessionId, EVENT_TEXT_LIMITS.sessionId);
  const badProperty = findUnstorableJson(properties, MAX_PROPERTY_KEYS);
  if (badProperty) {
    const path = [propertiesPath, ...badProperty.path].join('.');
    // A bad category or label is bad text in the properties too: named once.
    if (!issues.some((issue) => issue.path === path)) issues.push({ path, message: badProperty.message });
  }
  if (typeof type !== 'string' || issues.length > 0) return { ok: false, issues };
  // Built by assignment: object literals of conditional spreads (`...(x ? { k: x } : {})`) were
  // the costliest lines of the mapping in bench:segment's profile.
  const event: AnalyticsEventInput = { type, category: kind.category, action: kind.action, properties, metadata: { source: 'segment' } };
  if (message.messageId) event.id = segmentEventId(tenantId, message.messageId);
  if (label !== undefined) event.label = label;
  const ownValue = numberProperty(properties, 'value');
  const revenue = ownValue === undefined ? numberProperty(properties, 'revenue') : undefined;
  const valueKey = revenue === undefined ? 'value' : 'revenue';
  const value = ownValue ?? revenue;
  if (value !== undefined) event.value = value;
  const userUuid = message.userId ? segmentUserUuid(tenantId, message.userId) : undefined;
  if (userUuid !== undefined) event.userId = userUuid;
  if (sessionId !== undefined) event.sessionId = sessionId;
  const mappedContext = ourContext(context);
  if (Object.keys(mappedContext).length > 0) event.context = mappedContext;
  const timestamp = message.originalTimestamp ?? message.timestamp;
  if (timestamp) event.timestamp = timestamp;

  // 3. What only Segment has. ip and userAgent moved to our fields (the ip truncated there).
  const { ip: _ip, userAgent: _userAgent, ...segmentContext } = context;
  const integrations = defaults.integrations ? { ...defaults.integrations, ...message.integrations } : (message.integrations ?? {});
  const ids: SegmentIds = { type: message.type };
  if (message.messageId) ids.messageId = message.messageId;
  const metadata: Record<string, unknown> = {};
  // A UUID userId is the column as it is (or lower-cased, then kept exactly); any other is masked.
  // An anonymousId of up to 64 is the sessionId as it is.
  if (message.userId && userUuid !== message.userId) {
    if (userUuid === message.userId.toLowerCase()) ids.userId = message.userId;
    else metadata['userId'] = message.userId;
  }
  if (message.anonymousId && message.anonymousId !== sessionId) metadata['anonymousId'] = message.anonymousId;
  if (message.groupId != null) metadata['groupId'] = String(message.groupId);
  if (message.previousId != null) metadata['previousId'] = String(message.previousId);
  if (Object.keys(integrations).length > 0) metadata['integrations'] = integrations;
  const extras = { context: segmentContext, metadata, ids };
  const unstorable = findUnstorableJson(extras, MAX_PROPERTY_KEYS);
  if (unstorable) return { ok: false, issues: [{ path: unstorable.path.join('.').replace(/^(metadata|ids)\./, ''), message: unstorable.message }] };

  // 4. Size, once, of what is kept: our event and what only Segment has, the batch's context
  //    merged in, so what is stored of a message is at most 32 KB (fields Segment's API ignores
  //    are not kept and not counted). prepareValidEvent does not measure it again. Most
  //    messages are far under it, and a bound shows that without serialising (a third of the
  //    mapping's time in bench:segment's profile); only one near the limit is serialised.
  const kept = [event, extras];
  const bytes = jsonBytesAtMost(kept) <= MAX_EVENT_BYTES ? 0 : Buffer.byteLength(JSON.stringify(kept));
  if (bytes > MAX_EVENT_BYTES) return { ok: false, tooLarge: true, issues: [{ path: '', message: `message is ${bytes} bytes as kept (our event and what only Segment has, the batch's context merged in); the limit is ${MAX_EVENT_BYTES} (32 KB)` }] };
  const issuePaths = { properties: propertiesPath, value: `${propertiesPath}.${valueKey}`, timestamp: message.originalTimestamp ? 'originalTimestamp' : 'timestamp' };
  return { ok: true, mapped: { event, sentAt: message.sentAt ?? defaults.sentAt, extras, issuePaths } };
}

/** A complaint about our mapped field, renamed to the Segment field it came from. */
export function segmentIssue(issue: FieldIssue, issuePaths: Record<string, string>): FieldIssue {
  const [head, ...rest] = issue.path.split('.');
  const renamed = head === undefined ? undefined : issuePaths[head];
  return renamed === undefined ? issue : { ...issue, path: [renamed, ...rest].join('.') };
}

/**
 * The write key of HTTP Basic, as Segment takes it: the key as the user name and no password
 * (`base64(writeKey + ':')`). It comes before the body's (`bodyWriteKey`), and is read without
 * the body.
 */
export function basicWriteKey(authorization: string | undefined): string | undefined {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '')?.[1];
  if (!basic) return undefined;
  const user = Buffer.from(basic, 'base64').toString('utf8').split(':')[0];
  return user || undefined;
}

/** The body's `writeKey`, which Segment takes when there is no HTTP Basic. */
export function bodyWriteKey(body: unknown): string | undefined {
  const fromBody = isPlainObject(body) ? body['writeKey'] : undefined;
  return typeof fromBody === 'string' && fromBody.length > 0 ? fromBody : undefined;
}

/** Where analytics-next should send: this deployment, as the request reached it. */
export interface SegmentApiBase {
  protocol: 'http' | 'https';
  /** Host and path prefix without the scheme (`api.example.com/v1`), as Segment's settings carry it. */
  apiHost: string;
}

/**
 * The settings document analytics-next fetches from `cdnURL`: only the Segment.io destination,
 * pointed at this deployment, so a snippet changes one URL. Metrics sampling is off, so the
 * library sends nothing to Segment's own hosts.
 */
export function segmentSettings(writeKey: string, base: SegmentApiBase): SegmentSettings {
  return {
    integrations: { 'Segment.io': { apiKey: writeKey, apiHost: base.apiHost, protocol: base.protocol, unbundledIntegrations: [], addBundledMetadata: true, maybeBundledConfigIds: {} } },
    plan: { track: { __default: { enabled: true, integrations: {} } }, identify: { __default: { enabled: true } }, group: { __default: { enabled: true } } },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  };
}
