import type { QueueMessage } from '../domain/queue-messages.js';

/** The outcome of handing messages to the queue, per event id. */
export interface EnqueueResult {
  /** Ids of events whose message could not be sent after retries, with the last reason. */
  failed: Array<{ eventId: string; reason: string }>;
}

/** Where accepted events wait for the writer (SQS in AWS, an table of the local database locally). */
export interface EventQueue {
  enqueue(messages: QueueMessage[]): Promise<EnqueueResult>;
}
