import type { AuditEntry } from '../domain/answer-schemas.js';
import type { Actor } from '../domain/caller.js';

export type { AuditEntry };

/** Admin operations on one tenant's data. */
export interface EventAdmin {
  /** Deletes events before `olderThan` in batches, then writes EVENTS_PURGED; returns the count. */
  purgeOlderThan(who: Actor, olderThan: string, batchSize: number): Promise<number>;
  /** Audit entries, newest first, older than `beforeId` when given. */
  listAudit(tenantId: string, page: { limit: number; beforeId?: number; action?: string }): Promise<AuditEntry[]>;
}
