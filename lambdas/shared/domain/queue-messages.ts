import { z } from 'zod';
import type { TrackedEvent } from './event-schemas.js';
import { MAX_MESSAGE_MONTHS } from './limits.js';
import { monthOf } from './months.js';

/**
 * What the writer needs to know of a message besides its rows: whose events they are, the
 * months whose partitions must exist, and (first message of a batch request only) the
 * request's counts for the audit log. A batch whose every item was refused is one message with
 * no months and no rows: it carries the counts alone, because only the writer writes Postgres.
 */
export const QueueHeaderSchema = z.strictObject({
  version: z.literal(2),
  tenantId: z.uuid(),
  actor: z.string().max(255),
  requestId: z.string().max(128),
  months: z.array(z.string().regex(/^\d{4}-\d{2}-01$/)).max(MAX_MESSAGE_MONTHS),
  batchSummary: z
    .strictObject({ total: z.number().int(), accepted: z.number().int(), rejected: z.number().int() })
    .optional(),
});
export type QueueHeader = z.infer<typeof QueueHeaderSchema>;

/** The header as the ingest knows it before packing; the months come from the events packed. */
export type RequestHeader = Omit<QueueHeader, 'version' | 'months'>;

/** A message ready for the queue, with the ids of its events for the receipt. */
export interface QueueMessage {
  body: string;
  eventIds: string[];
}

/**
 * The fields of a queued row, in order. A row is one line of PostgreSQL's COPY text format, so
 * the writer hands a message's rows to the database as they came off the queue, without
 * parsing them: see docs/decisions.md, "Queue messages carry COPY rows".
 */
export const QUEUED_ROW_FIELDS = [
  'eventId', 'timestamp', 'type', 'category', 'action', 'label', 'value', 'userId', 'sessionId',
  'properties', 'context', 'metadata', 'receivedAt', 'actor', 'requestId',
] as const;
export type QueuedRowField = (typeof QUEUED_ROW_FIELDS)[number];

/** COPY text's own escapes, plus `\xHH` for the control characters an SQS body may not hold. */
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const COPY_SPECIAL = /[\u0000-\u001f\\]/g;
const escapeChar = (char: string): string => COPY_ESCAPES[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** One value in COPY text format; `\N` is NULL. */
export const copyText = (value: string | null): string => (value === null ? '\\N' : value.replace(COPY_SPECIAL, escapeChar));

/**
 * A value's JSON in COPY text format, as `copyText(JSON.stringify(value))` writes it: JSON
 * escapes every control character itself, so only its backslashes need doubling, and most
 * rows' JSON has none (the regex's pass was a third of packing a row's JSON).
 */
export const copyJson = (value: unknown): string => {
  const json = JSON.stringify(value);
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
};

const COPY_UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const COPY_ESCAPE = /\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g;
const unescapeCopy = (_: string, code: string): string => {
  if (code.length > 1 && code[0] === 'x') return String.fromCharCode(parseInt(code.slice(1), 16));
  if (/^[0-7]/.test(code)) return String.fromCharCode(parseInt(code, 8));
  return COPY_UNESCAPES[code] ?? code;
};

/**
 * A field of a queued row as COPY reads it, the inverse of `copyText` (Postgres's escapes of
 * text format, `\N` is NULL). A byte escape is taken as a character: the rows escape only
 * control characters so.
 */
export const readCopyText = (field: string): string | null => {
  if (field === '\\N') return null;
  return field.includes('\\') ? field.replace(COPY_ESCAPE, unescapeCopy) : field;
};

/** One event as a queued row (a line of COPY text, newline included). */
export function queuedRow(event: TrackedEvent, actor: string, requestId: string): string {
  return `${[
    event.eventId,
    event.timestamp,
    event.type,
    copyText(event.category),
    copyText(event.action),
    copyText(event.label),
    event.value === null ? '\\N' : String(event.value),
    event.userId ?? '\\N',
    copyText(event.sessionId),
    copyJson(event.properties),
    copyJson(event.context),
    copyJson(event.metadata),
    event.receivedAt,
    copyText(actor),
    copyText(requestId),
  ].join('\t')}\n`;
}

/** The body of a message: the header as one line of JSON, then the rows. */
const messageBody = (header: QueueHeader, rows: string[]): string => `${JSON.stringify(header)}\n${rows.join('')}`;

/** Each month in the header costs at most its quoted `YYYY-MM-01` and a comma. */
const MONTH_BYTES = 13;

/**
 * Packs events into as few messages as the message size limit allows (greedy, in order). The
 * batch summary goes on the first message only, so that the request is audited once; a batch
 * without events is that one message, with no rows.
 */
export function packMessages(request: RequestHeader, events: TrackedEvent[], maxMessageBytes: number): QueueMessage[] {
  const { batchSummary, ...plain } = request;
  const headerFor = (first: boolean, months: Set<string>): QueueHeader => ({
    version: 2,
    ...plain,
    months: [...months].sort(),
    ...(first && batchSummary ? { batchSummary } : {}),
  });
  const emptyHeaderBytes = (first: boolean) => Buffer.byteLength(JSON.stringify(headerFor(first, new Set()))) + 1;

  const messages: QueueMessage[] = [];
  let rows: string[] = [];
  let eventIds: string[] = [];
  let months = new Set<string>();
  let bytes = emptyHeaderBytes(true);
  const flush = () => {
    messages.push({ body: messageBody(headerFor(messages.length === 0, months), rows), eventIds });
    rows = [];
    eventIds = [];
    months = new Set();
    bytes = emptyHeaderBytes(false);
  };

  for (const event of events) {
    const row = queuedRow(event, request.actor, request.requestId);
    const month = monthOf(event.timestamp);
    const rowBytes = Buffer.byteLength(row);
    if (rows.length > 0 && bytes + rowBytes + (months.has(month) ? 0 : MONTH_BYTES) > maxMessageBytes) flush();
    bytes += rowBytes + (months.has(month) ? 0 : MONTH_BYTES);
    rows.push(row);
    eventIds.push(event.eventId);
    months.add(month);
  }
  if (rows.length > 0 || (messages.length === 0 && batchSummary)) flush();
  return messages;
}

/** A message as the writer reads it: its checked header, and its rows exactly as received. */
export interface ReceivedMessage {
  header: QueueHeader;
  rows: string;
}

/**
 * Reads a message body, or says why it is not one. Only the header is parsed: the rows' types
 * and constraints are checked by the database, and a message it refuses fails alone. Every row
 * has a month, so a header without months is a batch summary with no rows.
 */
export function readMessage(body: string): ReceivedMessage | string {
  const cut = body.indexOf('\n');
  if (cut < 0) return 'not a queue message: expected a header line, then event rows';
  let json: unknown;
  try {
    json = JSON.parse(body.slice(0, cut));
  } catch {
    return 'header line is not JSON';
  }
  const parsed = QueueHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `not a queue message header: ${issue ? `${issue.path.join('.') || 'header'}: ${issue.message}` : 'invalid'}`;
  }
  const header = parsed.data;
  const rows = body.slice(cut + 1);
  if (header.months.length === 0) {
    if (rows.length > 0) return 'not a queue message header: months: names no month for its rows';
    return header.batchSummary ? { header, rows } : 'not a queue message header: months: a message without rows carries a batch summary';
  }
  if (rows.length === 0 || !rows.endsWith('\n')) return 'event rows missing or cut off';
  return { header, rows };
}

const TYPE_FIELD = QUEUED_ROW_FIELDS.indexOf('type');

/**
 * How many events of each type the message bodies carry. Read from the rows without decoding
 * them: the fields before `type` are ids and dates that COPY text never escapes, so the tabs
 * before it are delimiters.
 */
export function countEventTypes(bodies: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const body of bodies) {
    for (let row = body.indexOf('\n') + 1; row > 0 && row < body.length; row = body.indexOf('\n', row) + 1) {
      let start = row;
      for (let field = 0; field < TYPE_FIELD; field += 1) start = body.indexOf('\t', start) + 1;
      const type = body.slice(start, body.indexOf('\t', start));
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
  }
  return counts;
}
