import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '../../lambdas/shared/domain/answer-schemas.js';
import type { StoredEventBatch } from '../../lambdas/shared/ports/stored-event-publisher.js';
import type { TrackedEvent } from '../../lambdas/shared/domain/event-schemas.js';
import { packMessages, QUEUED_ROW_FIELDS, queuedRow, readCopyText, readMessage, type QueueHeader, type QueueMessage, type ReceivedMessage, type RequestHeader } from '../../lambdas/shared/domain/queue-messages.js';

export const TENANT_A = '11111111-1111-4111-8111-111111111111';
export const TENANT_B = '22222222-2222-4222-8222-222222222222';

export function trackedEvent(overrides: Partial<TrackedEvent> = {}): TrackedEvent {
  const now = new Date().toISOString();
  return {
    eventId: randomUUID(),
    timestamp: now,
    type: 'CUSTOM',
    category: 'test',
    action: 'run',
    label: null,
    value: null,
    userId: null,
    sessionId: null,
    properties: {},
    context: {},
    metadata: {},
    receivedAt: now,
    ...overrides,
  };
}

/** The events of one request, as the ingest would queue them. */
export interface TestEnvelope extends RequestHeader {
  events: TrackedEvent[];
}

export function envelope(events: TrackedEvent[], overrides: Partial<RequestHeader> = {}): TestEnvelope {
  return { tenantId: TENANT_A, actor: 'tester', requestId: randomUUID(), events, ...overrides };
}

/** The envelope as one queue message body, whatever its size. */
export function messageBody({ events, ...request }: TestEnvelope): string {
  const [message] = packMessages(request, events, Infinity);
  if (!message) throw new Error('an envelope needs an event or a batch summary');
  return message.body;
}

/** The envelope as the ingest hands it to the queue. */
export function queueMessage(message: TestEnvelope): QueueMessage {
  return { body: messageBody(message), eventIds: message.events.map((event) => event.eventId) };
}

/** An envelope as the writer receives it off the queue. */
export function received(message: TestEnvelope): ReceivedMessage {
  const read = readMessage(messageBody(message));
  if (typeof read === 'string') throw new Error(read);
  return read;
}

/** A queued row read back field by field (tests only). */
export function decodeRows(rows: string): Array<Record<(typeof QUEUED_ROW_FIELDS)[number], string | null>> {
  return rows
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const values = line.split('\t').map(readCopyText);
      return Object.fromEntries(QUEUED_ROW_FIELDS.map((field, index) => [field, values[index] ?? null])) as Record<(typeof QUEUED_ROW_FIELDS)[number], string | null>;
    });
}

/** A message body read back: its header and its rows decoded (tests only). */
export function decodeMessage(body: string): { header: QueueHeader; rows: ReturnType<typeof decodeRows> } {
  const read = readMessage(body);
  if (typeof read === 'string') throw new Error(read);
  return { header: read.header, rows: decodeRows(read.rows) };
}

/** A writer's flush of the live counters that does nothing: for tests of the writer's Postgres side. */
export const noCounterFlush = { flush: async () => ({ applied: 0, expired: 0, paused: false }) };

/** A stored event as the API answers it (and the writer reads it back), with its defaults. */
export const storedEvent = (overrides: Partial<StoredEvent> = {}): StoredEvent => ({
  eventId: randomUUID(), timestamp: '2026-01-01T00:00:00.000Z', type: 'CUSTOM', category: 'c', action: 'a', label: null, value: null,
  userId: null, sessionId: null, properties: {}, context: {}, metadata: {}, receivedAt: '2026-01-01T00:00:00.000Z', storedAt: '2026-01-01T00:00:00.100Z',
  ...overrides,
});

/** Tracked events as the writer hands them to the stream once stored: their staged rows, all new. */
export const storedRows = (tenantId: string, events: TrackedEvent[], storedAt = new Date().toISOString()): StoredEventBatch => ({
  tenantId, rows: events.map((event) => queuedRow(event, 'tester', 'request')).join(''), storedAt, notNew: [],
});

/** A tracked event as GET answers it once stored at `storedAt`. */
export const asStored = (event: TrackedEvent, storedAt: string): StoredEvent => ({ ...event, storedAt });
