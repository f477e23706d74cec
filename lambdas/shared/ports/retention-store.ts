import type { StoredEvent } from '../domain/answer-schemas.js';
import type { ArchivedTenant, ArchiveManifest } from '../domain/archive-manifest.js';

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
  /** While `exporting`: the tenants whose object is uploaded, which a resumed export does not upload again. */
  exported: ArchivedTenant[];
}

export const TENANT_RETENTION_STATES = ['exporting', 'uploaded', 'verified', 'deleted', 'superseded'] as const;
export type TenantRetentionState = (typeof TENANT_RETENTION_STATES)[number];

/** One archiving of one tenant's rows of a month, past that tenant's shorter retention. */
export interface TenantRetentionRun {
  /** `YYYY-MM-01`. */
  month: string;
  tenantId: string;
  generation: number;
  state: TenantRetentionState;
  archivePrefix: string;
  /** The run archives and deletes only rows stored before this instant; later ones wait for the next run. */
  storedBefore: string;
  manifest: ArchiveManifest | undefined;
  /** Of the archived rows, those already deleted: a resumed run carries on from here. */
  deletedRows: number;
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
  /** The tenant's events of the month (only those stored before `storedBefore` if given), in a fixed order, a page at a time. */
  tenantEvents(month: string, tenantId: string, storedBefore?: string): AsyncIterable<StoredEvent>;
  /** Records a tenant's object of the run's export as uploaded. */
  recordExported(run: RetentionRun, tenant: ArchivedTenant): Promise<RetentionRun>;
  /** Moves the run to `state`; `manifest` is recorded with `uploaded`. */
  advance(run: RetentionRun, state: Exclude<RetentionState, 'exporting' | 'dropped'>, manifest?: ArchiveManifest): Promise<RetentionRun>;
  /** Back to `exporting`, with no tenant exported: the table holds rows the archive does not. */
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
  /** Every tenant that has rollups, those past their retention pruned: the tenants whose event sets the job keeps. */
  tenantsWithRollups(): Promise<string[]>;
  /**
   * The tenant's unfinished run of the month, else a new one of the next generation when the
   * tenant has rows in it, else `undefined`: nothing to purge.
   */
  openTenantRun(month: string, tenantId: string): Promise<TenantRetentionRun | undefined>;
  /** The tenant's rows of the month stored before `storedBefore`. */
  tenantRowsStoredBefore(month: string, tenantId: string, storedBefore: string): Promise<number>;
  /** Moves the run to `state`; `manifest` is recorded with `uploaded`. */
  advanceTenantRun(run: TenantRetentionRun, state: 'uploaded' | 'verified', manifest?: ArchiveManifest): Promise<TenantRetentionRun>;
  /** Back to `exporting`, with a new `storedBefore`: the table holds rows the archive does not. */
  restartTenantExport(run: TenantRetentionRun): Promise<TenantRetentionRun>;
  /**
   * Deletes the run's rows in batches, each counted in the run in its own transaction; the last
   * one also corrects the tenant's rollups and event sets to the events that remain, writes the
   * EVENTS_PURGED entry and marks the run deleted.
   */
  deleteArchivedTenantRows(run: TenantRetentionRun & { manifest: ArchiveManifest }): Promise<void>;
}
