import type { QueryActor } from './event-queries.js';

export interface AuditEntry {
  auditId: number;
  occurredAt: string;
  action: string;
  actor: string;
  details: Record<string, unknown>;
}

/** Admin operations on one tenant's data. */
export interface EventAdmin {
  /** Deletes events before `olderThan` in batches, then writes EVENTS_PURGED; returns the count. */
  purgeOlderThan(who: QueryActor, olderThan: string, batchSize: number): Promise<number>;
  /** Audit entries, newest first, older than `beforeId` when given. */
  listAudit(tenantId: string, page: { limit: number; beforeId?: number; action?: string }): Promise<AuditEntry[]>;
}
