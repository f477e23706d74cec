import type { EventAdmin, AuditEntry, RetentionRuns } from '../../ports/event-admin.js';
import type { Actor } from '../../domain/caller.js';
import { toIso, toNumber } from './event-rows.js';
import { correctRollupsAfterPurge, deleteRollupsOfEmptiedPeriods } from './event-rollups.js';
import { PgEventSets } from './pg-event-sets.js';
import type { SqlDatabase } from './sql-database.js';
import { inTenantTransaction } from './tenant-transaction.js';

/**
 * One batch of the tenant's (`$1`) events that match `where`, oldest first, `limit` of them,
 * counted as `n`. One short transaction per batch: each holds row locks on a few thousand rows
 * for milliseconds, so writers and readers of the same tenant are never blocked for long.
 */
export const deleteEventsBatchSql = (where: string, limit: string): string => `WITH gone AS (
  DELETE FROM analytics_events e
  USING (
    SELECT event_id, timestamp FROM analytics_events
    WHERE tenant_id = $1 AND ${where}
    ORDER BY timestamp LIMIT ${limit}
  ) AS old
  WHERE e.tenant_id = $1 AND e.event_id = old.event_id AND e.timestamp = old.timestamp
  RETURNING 1
) SELECT count(*)::int AS n FROM gone`;

interface RetentionRunRow {
  kind: 'partition' | 'tenant';
  partition_month: Date | string;
  generation: number;
  state: string;
  rows: string | number | null;
  bytes: string | number | null;
  archive_key: string | null;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  updated_at: Date | string;
}

const monthOf = (value: Date | string): string => (typeof value === 'string' ? value : value.toISOString()).slice(0, 7);
const instantOrNull = (value: Date | string | null): string | null => (value === null ? null : toIso(value));

const DELETE_OLDER_THAN = deleteEventsBatchSql('timestamp < $2::timestamptz', '$3');

export class PgEventAdmin implements EventAdmin {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * 1. Deletes the tenant's rollup rows of the periods that end by the cut-off, in batches.
   * 2. Deletes the events before the cut-off, in batches, oldest first.
   * 3. In the transaction of the last batch: corrects the rollups and event sets of the periods
   *    before the cut-off from the events left, and audits EVENTS_PURGED. Every read agrees with
   *    the remaining events from its commit on (docs/decisions.md, "Counts after a purge").
   * 4. Keeps the event sets of the cut-off's hour and day (`PgEventSets.keep`).
   * Between 1 and 3 a read over the purged periods may count fewer or more events than remain.
   */
  async purgeOlderThan(who: Actor, olderThan: string, batchSize: number): Promise<number> {
    await deleteRollupsOfEmptiedPeriods(this.db, who.tenantId, olderThan, batchSize);
    let deleted = 0;
    for (;;) {
      const removed = await inTenantTransaction(this.db, who.tenantId, async (session) => {
        const rows = await session.query<{ n: number }>(DELETE_OLDER_THAN, [who.tenantId, olderThan, batchSize]);
        const inBatch = rows[0]?.n ?? 0;
        if (inBatch < batchSize) {
          await correctRollupsAfterPurge(session, who.tenantId, olderThan);
          await session.query(`INSERT INTO audit_log (tenant_id, action, actor, details) VALUES ($1, 'EVENTS_PURGED', $2, $3::jsonb)`, [
            who.tenantId,
            who.subject,
            JSON.stringify({ olderThan, deleted: deleted + inBatch }),
          ]);
        }
        return inBatch;
      });
      deleted += removed;
      if (removed < batchSize) break;
    }
    // The hour and day of the cut-off lost some of their events: their sets are built again
    // now rather than read from the events until a write touches them. A failure leaves them
    // to be read from the events; the purge itself is done.
    const cutOff = Date.parse(olderThan);
    await new PgEventSets(this.db).keepOrLog(who.tenantId, { from: cutOff, to: cutOff }, 'event sets not kept after a purge');
    return deleted;
  }

  /** Through `retention_runs_of_tenant()` (migration 0015): the state tables are the operator's, the function answers for the scoped tenant only. */
  async retentionRuns(who: Actor): Promise<RetentionRuns> {
    const rows = await inTenantTransaction(this.db, who.tenantId, async (session) => {
      const runs = await session.query<RetentionRunRow>(
        `SELECT kind, partition_month, generation, state, rows, bytes, archive_key, started_at, finished_at, updated_at
         FROM retention_runs_of_tenant() ORDER BY partition_month DESC, kind, generation DESC`,
      );
      await session.query(`INSERT INTO audit_log (tenant_id, action, actor, details) VALUES ($1, 'EVENTS_QUERIED', $2, $3::jsonb)`, [
        who.tenantId,
        who.subject,
        JSON.stringify({ kind: 'retention-status', resultCount: runs.length }),
      ]);
      return runs;
    });
    const latest = rows.reduce<number | null>((max, row) => Math.max(max ?? 0, Date.parse(toIso(row.updated_at))), null);
    return {
      lastRun: latest === null ? null : new Date(latest).toISOString(),
      runs: rows.map((row) => ({
        kind: row.kind,
        month: monthOf(row.partition_month),
        generation: row.generation,
        state: row.state,
        rows: toNumber(row.rows),
        bytes: toNumber(row.bytes),
        archive: row.archive_key,
        startedAt: instantOrNull(row.started_at),
        finishedAt: instantOrNull(row.finished_at),
        error: null,
      })),
    };
  }

  async listAudit(tenantId: string, page: { limit: number; beforeId?: number; action?: string }): Promise<AuditEntry[]> {
    const rows = await inTenantTransaction(this.db, tenantId, (session) =>
      session.query<{ audit_id: string | number; occurred_at: Date | string; action: string; actor: string; details: Record<string, unknown> }>(
        `SELECT audit_id, occurred_at, action, actor, details FROM audit_log
         WHERE tenant_id = $1 AND ($2::bigint IS NULL OR audit_id < $2) AND ($3::text IS NULL OR action = $3)
         ORDER BY audit_id DESC LIMIT $4`,
        [tenantId, page.beforeId ?? null, page.action ?? null, page.limit],
      ),
    );
    return rows.map((row) => ({ auditId: Number(row.audit_id), occurredAt: toIso(row.occurred_at), action: row.action, actor: row.actor, details: row.details }));
  }
}
