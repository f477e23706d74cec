import type { CounterDelta, CounterOutbox } from '../../ports/live-counters.js';
import { toIso } from './event-rows.js';
import type { SqlDatabase } from './sql-database.js';

/** Crosses tenants, on this table alone (migration 0013). */
const FLUSH_ROLE = 'tracker_counters';

/**
 * Claimed by deleting: the rows stay locked until the flush's transaction ends, so a second
 * flush skips them, and a crash rolls the delete back. No order: every pending delta is taken
 * sooner or later, and a sort would read the whole backlog after an outage on every flush.
 */
const CLAIM = `DELETE FROM live_counter_deltas WHERE delta_id IN (
  SELECT delta_id FROM live_counter_deltas LIMIT $1 FOR UPDATE SKIP LOCKED
) RETURNING delta_id, tenant_id, counts, created_at`;

/** The deltas of a claim that are not done, back as they were. */
const PUT_BACK = `INSERT INTO live_counter_deltas (delta_id, tenant_id, counts, created_at)
  SELECT delta_id, tenant_id, counts, created_at
  FROM jsonb_to_recordset($1::jsonb) AS d(delta_id uuid, tenant_id uuid, counts jsonb, created_at timestamptz)`;

interface DeltaRow {
  delta_id: string;
  tenant_id: string;
  counts: Array<{ minute: string; type: string; category: string; count: number }>;
  created_at: Date | string;
}

/** The outbox table the writer fills in its transaction (`WRITE_STAGED_EVENTS`). */
export class PgCounterOutbox implements CounterOutbox {
  constructor(private readonly db: SqlDatabase) {}

  drain(limit: number, apply: (deltas: CounterDelta[]) => Promise<ReadonlySet<string>>): Promise<{ claimed: number; done: number }> {
    return this.db.transaction(async (session) => {
      await session.exec(`SET LOCAL ROLE ${FLUSH_ROLE}`);
      const rows = await session.query<DeltaRow>(CLAIM, [limit]);
      if (rows.length === 0) return { claimed: 0, done: 0 };
      const done = await apply(
        // jsonb writes a timestamptz in the session's zone: normalised to UTC ISO here.
        rows.map((row) => ({ deltaId: row.delta_id, tenantId: row.tenant_id, counts: row.counts.map((count) => ({ ...count, minute: toIso(count.minute) })) })),
      );
      const left = rows.filter((row) => !done.has(row.delta_id));
      if (left.length > 0) await session.query(PUT_BACK, [JSON.stringify(left.map((row) => ({ ...row, created_at: toIso(row.created_at) })))]);
      return { claimed: rows.length, done: rows.length - left.length };
    });
  }
}
