import { DatabaseUnavailableError } from '../domain/errors.js';
import { readMessage, type ReceivedMessage } from '../domain/queue-messages.js';
import { describeError, log } from '../logger.js';
import type { EventStore, WriteSummary } from '../ports/event-store.js';
import { NO_SUBSCRIBERS, type StoredEventBatch, type StoredEventPublisher } from '../ports/stored-event-publisher.js';

export interface QueueRecord {
  messageId: string;
  body: string;
}

export interface WriteOutcome {
  /** Records to be delivered again (SQS `batchItemFailures`); all others are done. */
  failed: Array<{ messageId: string; reason: string }>;
  stored: number;
  duplicates: number;
  /** The delivery failed as a whole because the database could not be reached (paused, resuming). */
  databaseUnreachable?: true;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The stream waits at most this for the subscriber lookup; past it the delivery streams nothing. */
export const SUBSCRIBER_LOOKUP_MS = 250;
/** And at most this for the fan-out after the commit; what is not sent by then is lost to the stream. */
export const PUBLISH_DEADLINE_MS = 1000;

/** The stream is best effort: a publisher that throws or hangs costs the writer a bounded wait. */
async function bounded<T>(work: () => Promise<T>, ms: number, fallback: T, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      log('warn', `${what} took over ${ms} ms; the writer went on without it`);
      resolve(fallback);
    }, ms);
  });
  const done = work().catch((error: unknown) => {
    log('warn', `${what} failed; the writer went on without it`, describeError(error));
    return fallback;
  });
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stores the events of one delivery from the queue, then hands the new ones to the live stream.
 * 1. Read every record's header; one that is not a message fails alone (and ends in the DLQ).
 * 2. Ask the publisher which of the delivery's tenants anyone streams (bounded).
 * 3. Write all the others in one transaction, keeping the staged rows of those tenants' new events.
 * 4. If that fails, write record by record, so that a record the database rejects is the only
 *    one retried. A database that cannot be reached (paused, resuming) fails them all at once:
 *    record by record would wait for it once per record, past the function's timeout.
 * 5. Publish what was stored (bounded, never a failure of the delivery).
 */
export async function writeQueuedEvents(store: EventStore, records: QueueRecord[], publisher: StoredEventPublisher = NO_SUBSCRIBERS): Promise<WriteOutcome> {
  const failed: WriteOutcome['failed'] = [];
  const valid: Array<{ messageId: string; received: ReceivedMessage }> = [];
  for (const record of records) {
    const read = readMessage(record.body);
    if (typeof read === 'string') failed.push({ messageId: record.messageId, reason: read });
    else valid.push({ messageId: record.messageId, received: read });
  }
  if (valid.length === 0) return { failed, stored: 0, duplicates: 0 };

  const tenants = [...new Set(valid.map((item) => item.received.header.tenantId))];
  const returnEventsOf = await bounded(() => publisher.subscribedTenants(tenants), SUBSCRIBER_LOOKUP_MS, new Set<string>(), 'the stream subscriber lookup');
  const written = await writeAll(store, valid, returnEventsOf, failed);
  if (written.storedEvents.length > 0) await bounded(() => publisher.publish(written.storedEvents), PUBLISH_DEADLINE_MS, undefined, 'publishing stored events');
  return { failed, stored: written.stored, duplicates: written.duplicates, ...(written.databaseUnreachable ? { databaseUnreachable: true as const } : {}) };
}

async function writeAll(
  store: EventStore,
  valid: Array<{ messageId: string; received: ReceivedMessage }>,
  returnEventsOf: ReadonlySet<string>,
  failed: WriteOutcome['failed'],
): Promise<WriteSummary & Pick<WriteOutcome, 'databaseUnreachable'>> {
  try {
    return await store.writeMessages(valid.map((item) => item.received), { returnEventsOf });
  } catch (batchError) {
    if (batchError instanceof DatabaseUnavailableError) {
      failed.push(...valid.map(({ messageId }) => ({ messageId, reason: batchError.message })));
      return { stored: 0, duplicates: 0, storedEvents: [], databaseUnreachable: true };
    }
    const [only] = valid;
    if (only && valid.length === 1) {
      failed.push({ messageId: only.messageId, reason: reasonOf(batchError) });
      return { stored: 0, duplicates: 0, storedEvents: [] };
    }
  }

  let stored = 0;
  let duplicates = 0;
  const storedEvents: StoredEventBatch[] = [];
  for (const { messageId, received } of valid) {
    try {
      const summary = await store.writeMessages([received], { returnEventsOf });
      stored += summary.stored;
      duplicates += summary.duplicates;
      storedEvents.push(...summary.storedEvents);
    } catch (error) {
      failed.push({ messageId, reason: reasonOf(error) });
    }
  }
  return { stored, duplicates, storedEvents };
}
