import type { StoredEvent } from '../domain/answer-schemas.js';
import type { ArchiveManifest } from '../domain/archive-manifest.js';

export const RETENTION_STATES = ['exporting', 'uploaded', 'verified', 'detached', 'dropped'] as const;
export type RetentionState = (typeof RETENTION_STATES)[number];

/** One archiving of one month's partition, as recorded in the job's state table. */
export interface RetentionRun {
  /** `YYYY-MM-01`. */
  month: string;
  generation: number;
  state: RetentionState;
  archivePrefix: string;
  /** Set from `uploaded` on. */
  manifest: ArchiveManifest | undefined;
}

/** The tenants of a partition table and their rows, read from the table itself. */
export type TenantRows = ReadonlyMap<string, number>;

/**
 * The database side of the retention job: partitions, their rows, the state table and the
 * pruning. Every method is safe to call again after a crash at any point of it.
 */
export interface RetentionStore {
  /**
   * Runs `work` while holding the job's lock; answers `{ ran: false }` without running it when
   * another run holds the lock.
   */
  exclusively<T>(work: () => Promise<T>): Promise<{ ran: true; result: T } | { ran: false }>;
  /** Creates the missing partitions among `months`, analyzes them, answers those it created. */
  ensurePartitions(months: string[]): Promise<string[]>;
  /** Months with a partition table, attached, being detached or detached. */
  partitionMonths(): Promise<string[]>;
  /** The month's run that is not finished, else a new one of the next generation. */
  openRun(month: string): Promise<RetentionRun>;
  tenantRows(month: string): Promise<TenantRows>;
  /** The tenant's events of the month, in a fixed order, a page at a time. */
  tenantEvents(month: string, tenantId: string): AsyncIterable<StoredEvent>;
  /** Moves the run to `state`; `manifest` is recorded with `uploaded`. */
  advance(run: RetentionRun, state: Exclude<RetentionState, 'exporting' | 'dropped'>, manifest?: ArchiveManifest): Promise<RetentionRun>;
  /** Back to `exporting`: the table holds rows the archive does not. */
  restartExport(run: RetentionRun): Promise<RetentionRun>;
  /** Detaches the partition without blocking writers, finishing a detach a crash left pending. */
  detach(month: string): Promise<void>;
  /**
   * In one transaction: drops the detached table, corrects the rollups and event sets of the
   * manifest's tenants to the events that remain, writes one EVENTS_PURGED entry per tenant and
   * marks the run dropped.
   */
  dropArchived(run: RetentionRun & { manifest: ArchiveManifest }): Promise<void>;
  /** Deletes rollups whose period starts before `cutoff`, in small transactions; answers how many. */
  pruneRollups(cutoff: Date): Promise<number>;
  /** Deletes dedupe rows of events before `cutoff`, in small transactions. */
  pruneDedupe(cutoff: Date): Promise<number>;
  /** Deletes user and session numbers that no remaining event uses. */
  pruneSetMembers(): Promise<number>;
}
