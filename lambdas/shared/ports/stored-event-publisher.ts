import type { StoredEvent } from '../domain/answer-schemas.js';

/** The events one tenant had stored by a writer's commit: new ones only, in the order read. */
export interface StoredEventBatch {
  tenantId: string;
  events: StoredEvent[];
}

/**
 * Hands the events the writer stored to live-stream subscribers, after the commit. The writer
 * asks first which tenants anyone listens to, so that it reads back stored events only for
 * them: with no subscriber the write costs what it did before the stream existed.
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
