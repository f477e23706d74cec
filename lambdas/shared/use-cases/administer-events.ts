import { AuditQuerySchema, PurgeQuerySchema } from '../domain/query-schemas.js';
import { parseInput } from '../domain/zod-issues.js';
import type { AuditEntry, EventAdmin } from '../ports/event-admin.js';
import type { Actor } from '../domain/caller.js';

/** Rows per delete transaction: small enough to hold locks for milliseconds. */
export const PURGE_BATCH_SIZE = 5000;

/** DELETE /v1/events?olderThan=ISO: the caller's tenant only, in batches, audited. */
export async function purgeEvents(admin: EventAdmin, who: Actor, params: unknown): Promise<{ deleted: number }> {
  const { olderThan } = parseInput(PurgeQuerySchema, params);
  return { deleted: await admin.purgeOlderThan(who, new Date(olderThan).toISOString(), PURGE_BATCH_SIZE) };
}

/** GET /v1/audit: the tenant's audit log, newest first. */
export async function listAudit(admin: EventAdmin, tenantId: string, params: unknown): Promise<{ entries: AuditEntry[]; nextBefore: number | null }> {
  const query = parseInput(AuditQuerySchema, params);
  const entries = await admin.listAudit(tenantId, { limit: query.limit, beforeId: query.before, action: query.action });
  return { entries, nextBefore: entries.length === query.limit ? (entries.at(-1)?.auditId ?? null) : null };
}
