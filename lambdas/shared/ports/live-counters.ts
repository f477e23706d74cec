import type { CounterDelta, CounterGranularity, LiveCount, MinuteCount } from '../domain/live-counters.js';

export type { CounterDelta, CounterGranularity, LiveCount, MinuteCount };

/** The deltas the writer left in its transaction, waiting to reach the live counters. */
export interface CounterOutbox {
  /**
   * Takes up to `limit` pending deltas no other flush holds and hands them to `apply`, which
   * answers the ids that are done with (applied, or dropped); those are deleted, the others
   * stay for the next flush. A crash anywhere leaves every delta of the claim pending.
   */
  drain(limit: number, apply: (deltas: CounterDelta[]) => Promise<ReadonlySet<string>>): Promise<{ claimed: number; done: number }>;
}

/** Outcome of applying deltas: each id whose every counter now holds it, and whether the store failed. */
export interface ApplyOutcome {
  applied: string[];
  /** The store refused or did not answer: the deltas not in `applied` were left as they were. */
  failure?: unknown;
}

/** Per tenant, type, category and minute (and hour) counts of stored events, kept for a few hours. */
export interface LiveCounterStore {
  /** Adds each delta to its minute and hour counters once, however often it is given the same one. */
  apply(deltas: CounterDelta[]): Promise<ApplyOutcome>;
  /** Deltas that will never be given again (deleted from the outbox): what marks them may go. */
  forget(deltaIds: readonly string[]): void;
  /** The tenant's counts of the periods starting in [from, to) (ms), the shards merged. */
  read(tenantId: string, granularity: CounterGranularity, from: number, to: number): Promise<LiveCount[]>;
}
