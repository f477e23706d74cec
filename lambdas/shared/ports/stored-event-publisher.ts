import type { StreamedEvent } from '../domain/streamed-events.js';

/**
 * What one tenant's part of a commit stored, as the writer has it at hand: the rows it staged
 * (queued rows, COPY text, in the order read) and the ids among them that were not new. The
 * publisher makes the events of it (`streamedEventsOfRows`) where that costs the writer
 * nothing: locally in the HTTP side's thread, in AWS after the commit.
 */
export interface StoredEventBatch {
  tenantId: string;
  rows: string;
  /** The commit's time, every event's `storedAt`. */
  storedAt: string;
  notNew: string[];
}

/** One tenant's stored events, in the stream's order. */
export interface StreamedEventBatch {
  tenantId: string;
  events: StreamedEvent[];
}

/**
 * Hands the events the writer stored to live-stream subscribers, after the commit. The writer
 * asks first which tenants anyone listens to, so that it keeps the rows only for them: with no
 * subscriber the write costs what it did before the stream existed.
 */
export interface StoredEventPublisher {
  /** Of these tenants, the ones whose stored events someone may want now. */
  subscribedTenants(tenantIds: readonly string[]): Promise<ReadonlySet<string>>;
  /** Delivers what it can; a slow or gone subscriber loses events, it never holds the writer. */
  publish(batches: readonly StoredEventBatch[]): Promise<void>;
}

/** A writer without a stream (the benchmarks' baseline, tests of the writer alone). */
export const NO_SUBSCRIBERS: StoredEventPublisher = {
  subscribedTenants: async () => new Set(),
  publish: async () => undefined,
};
