import { DatabaseUnavailableError } from '../domain/errors.js';
import { readMessage, type ReceivedMessage } from '../domain/queue-messages.js';
import type { EventStore } from '../ports/event-store.js';

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

/**
 * Stores the events of one delivery from the queue.
 * 1. Read every record's header; one that is not a message fails alone (and ends in the DLQ).
 * 2. Write all the others in one transaction.
 * 3. If that fails, write record by record, so that a record the database rejects is the only
 *    one retried. A database that cannot be reached (paused, resuming) fails them all at once:
 *    record by record would wait for it once per record, past the function's timeout.
 */
export async function writeQueuedEvents(store: EventStore, records: QueueRecord[]): Promise<WriteOutcome> {
  const failed: WriteOutcome['failed'] = [];
  const valid: Array<{ messageId: string; received: ReceivedMessage }> = [];
  for (const record of records) {
    const read = readMessage(record.body);
    if (typeof read === 'string') failed.push({ messageId: record.messageId, reason: read });
    else valid.push({ messageId: record.messageId, received: read });
  }
  if (valid.length === 0) return { failed, stored: 0, duplicates: 0 };

  try {
    const summary = await store.writeMessages(valid.map((item) => item.received));
    return { failed, ...summary };
  } catch (batchError) {
    if (batchError instanceof DatabaseUnavailableError) {
      return { failed: [...failed, ...valid.map(({ messageId }) => ({ messageId, reason: batchError.message }))], stored: 0, duplicates: 0, databaseUnreachable: true };
    }
    const [only] = valid;
    if (only && valid.length === 1) return { failed: [...failed, { messageId: only.messageId, reason: reasonOf(batchError) }], stored: 0, duplicates: 0 };
  }

  let stored = 0;
  let duplicates = 0;
  for (const { messageId, received } of valid) {
    try {
      const summary = await store.writeMessages([received]);
      stored += summary.stored;
      duplicates += summary.duplicates;
    } catch (error) {
      failed.push({ messageId, reason: reasonOf(error) });
    }
  }
  return { failed, stored, duplicates };
}
