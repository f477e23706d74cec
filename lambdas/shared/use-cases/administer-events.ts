import { AuditQuerySchema, PurgeQuerySchema } from '../domain/query-schemas.js';
import { ValidationError } from '../domain/errors.js';
import { parseInput } from '../domain/zod-issues.js';
import type { RetentionStatus } from '../domain/answer-schemas.js';
import type { RetentionSettings } from '../domain/retention-plan.js';
import type { AuditEntry, EventAdmin } from '../ports/event-admin.js';
import type { Actor } from '../domain/caller.js';

/** Rows per delete transaction: small enough to hold locks for milliseconds. */
export const PURGE_BATCH_SIZE = 5000;

/**
 * DELETE /v1/events?olderThan=ISO: the caller's tenant only, in batches, audited.
 * 1. Validate the cut-off: an instant, and not a future one, which would delete every event
 *    the tenant has, the ones still arriving included.
 * 2. Purge before it; the adapter keeps rollups and event sets true to what remains.
 */
export async function purgeEvents(admin: EventAdmin, who: Actor, params: unknown, now = new Date()): Promise<{ deleted: number }> {
  const { olderThan } = parseInput(PurgeQuerySchema, params);
  if (Date.parse(olderThan) > now.getTime()) throw new ValidationError([{ path: 'olderThan', message: 'must not be in the future' }]);
  return { deleted: await admin.purgeOlderThan(who, olderThan, PURGE_BATCH_SIZE) };
}

/** GET /v1/audit: the tenant's audit log, newest first. */
export async function listAudit(admin: EventAdmin, tenantId: string, params: unknown): Promise<{ entries: AuditEntry[]; nextBefore: number | null }> {
  const query = parseInput(AuditQuerySchema, params);
  const entries = await admin.listAudit(tenantId, { limit: query.limit, beforeId: query.before, action: query.action });
  return { entries, nextBefore: entries.length === query.limit ? (entries.at(-1)?.auditId ?? null) : null };
}

/**
 * GET /v1/admin/retention.
 * 1. The deployment's retention, and the caller's tenant's own shorter one if it has one.
 * 2. The job's runs as the tenant may see them, audited as a read.
 */
export async function retentionStatus(admin: EventAdmin, who: Actor, settings: RetentionSettings): Promise<RetentionStatus> {
  const { runs, lastRun } = await admin.retentionRuns(who);
  return {
    eventRetentionDays: settings.eventRetentionDays,
    rollupRetentionDays: settings.rollupRetentionDays,
    tenantEventDays: settings.tenantEventDays?.[who.tenantId] ?? null,
    lastRun,
    runs,
  };
}
