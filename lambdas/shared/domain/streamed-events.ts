import type { StoredEvent } from './answer-schemas.js';
import type { EventType } from './event-schemas.js';
import { QUEUED_ROW_FIELDS, readCopyText, type QueuedRowField } from './queue-messages.js';

/**
 * A stored event as the live stream carries it: its JSON text, made once and written to every
 * subscriber as it is, and the fields the stream's filters read. The properties are parsed
 * only when a property filter reads them.
 */
export class StreamedEvent {
  constructor(
    readonly eventId: string,
    readonly timestamp: string,
    readonly type: EventType,
    readonly category: string,
    /** The event as `GET /v1/events/{eventId}` answers it (the key order of its objects aside). */
    readonly json: string,
    private parsedOrText: Record<string, unknown> | string,
  ) {}

  get properties(): Record<string, unknown> {
    if (typeof this.parsedOrText === 'string') this.parsedOrText = JSON.parse(this.parsedOrText) as Record<string, unknown>;
    return this.parsedOrText;
  }
}

/** A stored event already parsed (the deployed fan-out's outbox items, the resume's rows). */
export const streamedEventOf = (event: StoredEvent): StreamedEvent =>
  new StreamedEvent(event.eventId, event.timestamp, event.type, event.category, JSON.stringify(event), event.properties);

/** Where each field is in a queued row, as constants: a lookup by name per field cost more than the rest. */
const at = (field: QueuedRowField): number => QUEUED_ROW_FIELDS.indexOf(field);
const [EVENT_ID, TIMESTAMP, TYPE, CATEGORY, ACTION, LABEL] = [at('eventId'), at('timestamp'), at('type'), at('category'), at('action'), at('label')];
const [VALUE, USER_ID, SESSION_ID, PROPERTIES, CONTEXT, METADATA, RECEIVED_AT] = [at('value'), at('userId'), at('sessionId'), at('properties'), at('context'), at('metadata'), at('receivedAt')];
const read = (fields: readonly string[], index: number): string | null => readCopyText(fields[index] ?? '\\N');
const ISO_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** An instant as the API writes it; the ingest queues it so already. */
const instant = (text: string): string => (ISO_MILLIS.test(text) ? text : new Date(text).toISOString());
/** What JSON.stringify would escape (a lone surrogate among them, so any surrogate): most texts have none. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const jsonString = (text: string | null): string => (text === null ? 'null' : NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`);

/** By timestamp, then id: the order the stream promises within one commit. */
const inTimeOrder = (a: StreamedEvent, b: StreamedEvent): number =>
  a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;

/**
 * The events a commit stored, from the rows the writer staged (queued rows, COPY text) instead
 * of read back from Postgres: the statement stores each id's first row unless the id was seen
 * before (`notNew`), and only `storedAt` comes from the database. The stored values are the
 * staged ones as Postgres types read them: ids in lower case, numbers and instants as the API
 * writes them, the JSON fields as sent (the ingest wrote them with JSON.stringify, and jsonb
 * keeps their values). Reading them back cost the writer about 36 us an event (issue 14).
 */
export function streamedEventsOfRows(rows: string, storedAt: string, notNew: ReadonlySet<string>): StreamedEvent[] {
  const seen = new Set<string>();
  const events: StreamedEvent[] = [];
  for (let start = 0; start < rows.length; ) {
    const newline = rows.indexOf('\n', start);
    const end = newline < 0 ? rows.length : newline;
    const fields = rows.slice(start, end).split('\t');
    start = end + 1;
    const eventId = (read(fields, EVENT_ID) ?? '').toLowerCase();
    if (seen.has(eventId)) continue;
    seen.add(eventId);
    if (notNew.has(eventId)) continue;
    const timestamp = instant(read(fields, TIMESTAMP) ?? '');
    const type = read(fields, TYPE) as EventType;
    const category = read(fields, CATEGORY) ?? '';
    const value = read(fields, VALUE);
    const userId = read(fields, USER_ID);
    const properties = read(fields, PROPERTIES) ?? '{}';
    const json = `{"eventId":${jsonString(eventId)},"timestamp":"${timestamp}","type":${jsonString(type)},"category":${jsonString(category)},`
      + `"action":${jsonString(read(fields, ACTION))},"label":${jsonString(read(fields, LABEL))},"value":${value === null ? 'null' : JSON.stringify(Number(value))},`
      + `"userId":${jsonString(userId && userId.toLowerCase())},"sessionId":${jsonString(read(fields, SESSION_ID))},"properties":${properties},`
      + `"context":${read(fields, CONTEXT) ?? '{}'},"metadata":${read(fields, METADATA) ?? '{}'},"receivedAt":"${instant(read(fields, RECEIVED_AT) ?? '')}","storedAt":"${storedAt}"}`;
    events.push(new StreamedEvent(eventId, timestamp, type, category, json, properties));
  }
  return events.sort(inTimeOrder);
}
