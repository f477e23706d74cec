import type { AuditEntry, RetentionRunStatus } from '../domain/answer-schemas.js';
import type { Actor } from '../domain/caller.js';

export type { AuditEntry, RetentionRunStatus };

/** The retention job's runs a tenant may see, and when any run last recorded a step. */
export interface RetentionRuns {
  runs: RetentionRunStatus[];
  lastRun: string | null;
}

/** Admin operations on one tenant's data. */
export interface EventAdmin {
  /** Deletes events before `olderThan` in batches, then writes EVENTS_PURGED; returns the count. */
  purgeOlderThan(who: Actor, olderThan: string, batchSize: number): Promise<number>;
  /** Audit entries, newest first, older than `beforeId` when given. */
  listAudit(tenantId: string, page: { limit: number; beforeId?: number; action?: string }): Promise<AuditEntry[]>;
  /** The tenant's own retention runs and the partition runs with its entry of their manifest, newest month first; audited as a read. */
  retentionRuns(who: Actor): Promise<RetentionRuns>;
}
