import type { QueueEnvelope } from '../domain/event-schemas.js';

/** The outcome of handing envelopes to the queue, per event id. */
export interface EnqueueResult {
  /** Ids of events whose message could not be sent after retries, with the last reason. */
  failed: Array<{ eventId: string; reason: string }>;
}

/** Where accepted events wait for the writer (SQS in AWS, an in-process queue locally). */
export interface EventQueue {
  enqueue(envelopes: QueueEnvelope[]): Promise<EnqueueResult>;
}
