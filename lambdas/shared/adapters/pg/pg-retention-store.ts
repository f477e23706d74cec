import { UNPACED, type Pacer } from '../../duty-cycle.js';
import { z } from 'zod';
import { archivePrefix, ArchivedTenantSchema, ArchiveManifestSchema, monthKey, tenantArchivePrefix, type ArchivedTenant, type ArchiveManifest } from '../../domain/archive-manifest.js';
import { monthEnd } from '../../domain/retention-plan.js';
import type { StoredEvent } from '../../ports/event-store.js';
import type { RetentionRun, RetentionState, RetentionStore, TenantRetentionRun, TenantRetentionState, TenantRows } from '../../ports/retention-store.js';
import { toIso, toStoredEventOfIsoText, type EventRow } from './event-rows.js';
import { ensureEventPartitions, partitionTable, rollupPartitionTable } from './event-partitions.js';
import { correctRollupsAfterPurge, deleteRollupsOfEmptiedPeriods } from './event-rollups.js';
import type { SqlDatabase, SqlSession } from './sql-database.js';
import { deleteEventsBatchSql } from './pg-event-admin.js';
import { inTenantTransaction, scopeToTenant } from './tenant-transaction.js';

/** The role the job's row work runs as (migration 0010); DDL stays with the owner. */
const MAINTENANCE_ROLE = 'tracker_maintenance';

/** One job at a time per database, whichever process runs it. */
const JOB_LOCK = `hashtextextended('retention job', 0)`;

/** Rows per page of an export: two pages are all the job holds of a partition. */
const EXPORT_PAGE = 1000;

/** An instant as the API writes it (`toISOString`), formatted by the database: the export parses no dates. */
const isoText = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** EVENT_COLUMNS of the partition aliased `e`, instants as ISO text. */
const EXPORT_COLUMNS = `e.event_id, ${isoText('e.timestamp')} AS timestamp, e.event_type, e.category, e.action, e.label, e.value, e.user_id, e.session_id,
  e.properties, e.context, e.metadata, ${isoText('e.received_at')} AS received_at, ${isoText('e.stored_at')} AS stored_at`;

type ExportRow = EventRow & { after_timestamp: string };

/** Rows per pruning transaction: short locks beside the writer, like the admin purge's 5,000. */
const PRUNE_BATCH = 5000;

export interface PgRetentionOptions {
  /** How long DETACH waits for a lock before giving up for this run (writers keep going). */
  lockTimeoutMs?: number;
  exportPage?: number;
  pruneBatch?: number;
  /** The actor of the EVENTS_PURGED entries. */
  actor?: string;
  /** Rests between pages and batches, so that the job leaves the database to the traffic part of the time. */
  pace?: Pacer;
}

interface RunRow {
  partition_month: Date | string;
  generation: number;
  state: RetentionState;
  archive_prefix: string;
  manifest: unknown;
  exported: unknown;
}

const ExportedSchema = z.array(ArchivedTenantSchema);

const monthOfRow = (value: Date | string): string => (typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10));

const manifestOf = (value: unknown): ArchiveManifest | undefined => (value === null ? undefined : ArchiveManifestSchema.parse(value));

const toRun = (row: RunRow): RetentionRun => ({
  month: monthOfRow(row.partition_month),
  generation: row.generation,
  state: row.state,
  archivePrefix: row.archive_prefix,
  manifest: manifestOf(row.manifest),
  exported: ExportedSchema.parse(row.exported),
});

const RUN_COLUMNS = 'partition_month, generation, state, archive_prefix, manifest, exported';

interface TenantRunRow extends Omit<RunRow, 'state' | 'exported'> {
  tenant_id: string;
  state: TenantRetentionState;
  stored_before: Date | string;
  deleted_rows: number;
}

const toTenantRun = (row: TenantRunRow): TenantRetentionRun => ({
  month: monthOfRow(row.partition_month),
  generation: row.generation,
  archivePrefix: row.archive_prefix,
  manifest: manifestOf(row.manifest),
  tenantId: row.tenant_id,
  state: row.state,
  storedBefore: toIso(row.stored_before),
  deletedRows: row.deleted_rows,
});

const TENANT_RUN_COLUMNS = 'partition_month, tenant_id, generation, state, archive_prefix, stored_before, manifest, deleted_rows';

/** A batch of the run's rows, through the parent as the tenant: row-level security keeps it to them. */
const DELETE_TENANT_ROWS = deleteEventsBatchSql('timestamp >= $2::timestamptz AND timestamp < $3::timestamptz AND stored_at < $4::timestamptz', '$5');

/**
 * A tenant's user or session numbers that no remaining event has, a batch at a time. Probed on
 * the events' (tenant, user) and (tenant, session) indexes, so compared in the columns' types.
 */
const unusedMembers = (kind: 'u' | 's', matches: string) => `WITH unused AS (
  SELECT member FROM set_members m WHERE m.tenant_id = $1 AND m.kind = '${kind}'
    AND NOT EXISTS (SELECT FROM analytics_events e WHERE e.tenant_id = $1 AND ${matches})
  LIMIT $2),
deleted AS (DELETE FROM set_members m USING unused u WHERE m.tenant_id = $1 AND m.kind = '${kind}' AND m.member = u.member RETURNING 1)
SELECT count(*)::int AS deleted FROM deleted`;
const UNUSED_USERS = unusedMembers('u', 'e.user_id = m.member::uuid');
const UNUSED_SESSIONS = unusedMembers('s', `e.session_id = (m.member COLLATE "default")`);

/** PGlite has one session, so its session advisory lock is re-entrant: a run under way per database. */
const runningOn = new WeakSet<SqlDatabase>();

/** The retention job's database side (see `RetentionStore`), on Postgres or PGlite. */
export class PgRetentionStore implements RetentionStore {
  private readonly lockTimeoutMs: number;
  private readonly exportPage: number;
  private readonly pruneBatch: number;
  private readonly actor: string;
  private readonly pace: Pacer;

  constructor(private readonly db: SqlDatabase, options: PgRetentionOptions = {}) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.exportPage = options.exportPage ?? EXPORT_PAGE;
    this.pruneBatch = options.pruneBatch ?? PRUNE_BATCH;
    this.actor = options.actor ?? 'retention-job';
    this.pace = options.pace ?? UNPACED;
  }

  async exclusively<T>(work: () => Promise<T>): Promise<{ ran: true; result: T } | { ran: false }> {
    if (runningOn.has(this.db)) return { ran: false };
    runningOn.add(this.db);
    try {
      // The lock lives on a connection of its own, held for the whole run; the work uses the pool.
      return await this.db.withConnection(async (session) => {
        const [row] = await session.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${JOB_LOCK}) AS locked`);
        if (!row?.locked) return { ran: false as const };
        try {
          return { ran: true as const, result: await work() };
        } finally {
          await session.query(`SELECT pg_advisory_unlock(${JOB_LOCK})`);
        }
      });
    } finally {
      runningOn.delete(this.db);
    }
  }

  async ensurePartitions(months: string[]): Promise<string[]> {
    const created = await ensureEventPartitions(this.db, months);
    // The planner has no statistics for a new table until autovacuum gets to it.
    for (const month of created) await this.db.query(`ANALYZE ${partitionTable(month)}, ${rollupPartitionTable(month)}`);
    return created;
  }

  async partitionMonths(): Promise<string[]> {
    const rows = await this.db.query<{ month: string }>(
      `SELECT substr(relname, 18, 4) || '-' || substr(relname, 23, 2) || '-01' AS month FROM pg_class
       WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND relname ~ '^analytics_events_[0-9]{4}_[0-9]{2}$'
       ORDER BY 1`,
    );
    return rows.map((row) => row.month);
  }

  openRun(month: string): Promise<RetentionRun> {
    return this.asMaintenance(async (session) => {
      const [open] = await session.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM retention_runs WHERE partition_month = $1 AND state <> 'dropped'`, [month]);
      if (open) return toRun(open);
      const [last] = await session.query<{ generation: number | null }>(`SELECT max(generation) AS generation FROM retention_runs WHERE partition_month = $1`, [month]);
      const generation = (last?.generation ?? 0) + 1;
      const [created] = await session.query<RunRow>(
        `INSERT INTO retention_runs (partition_month, generation, state, archive_prefix) VALUES ($1, $2, 'exporting', $3) RETURNING ${RUN_COLUMNS}`,
        [month, generation, archivePrefix(month, generation)],
      );
      if (!created) throw new Error(`No run recorded for ${monthKey(month)}`);
      return toRun(created);
    });
  }

  /**
   * Read from the partition's own table, attached or detached. As its owner: row-level security
   * is the parent's, and no application role has a right on the partition itself.
   */
  async tenantRows(month: string): Promise<TenantRows> {
    const rows = await this.db.query<{ tenant_id: string; rows: number }>(
      `SELECT tenant_id, count(*)::int AS rows FROM ${partitionTable(month)} GROUP BY tenant_id ORDER BY tenant_id`,
    );
    return new Map(rows.map((row) => [row.tenant_id, row.rows]));
  }

  /**
   * Keyset pages in time order, on the tenant's (timestamp, event_id) index: each page is one
   * index range whose rows sit together in the heap, which the writer fills in time order, and
   * no transaction stays open. The next page is read while this one is written out, so at most
   * two pages are held. The keyset takes the timestamp as the database writes it: exact to the
   * microsecond, where the event's ISO text has milliseconds.
   */
  async *tenantEvents(month: string, tenantId: string, storedBefore?: string): AsyncGenerator<StoredEvent> {
    const readPage = (after?: ExportRow) =>
      this.db.query<ExportRow>(
        // e.timestamp, not timestamp: ORDER BY would take the ISO text column of that name.
        `SELECT ${EXPORT_COLUMNS}, e.timestamp::text AS after_timestamp FROM ${partitionTable(month)} e
         WHERE e.tenant_id = $1 AND ($2::timestamptz IS NULL OR (e.timestamp, e.event_id) > ($2::timestamptz, $3::uuid))
           AND ($5::timestamptz IS NULL OR e.stored_at < $5::timestamptz)
         ORDER BY e.timestamp, e.event_id LIMIT $4`,
        [tenantId, after?.after_timestamp ?? null, after?.event_id ?? null, this.exportPage, storedBefore ?? null],
      );
    let next = readPage();
    try {
      for (;;) {
        const rows = await next;
        const last = rows.at(-1);
        const more = last !== undefined && rows.length === this.exportPage;
        if (more) next = readPage(last);
        for (const row of rows) yield toStoredEventOfIsoText(row);
        if (!more) return;
        // After the page was written out: the rest follows the read, the JSON and the gzip of it.
        await this.pace.pause();
      }
    } finally {
      // A consumer that stops early (its upload failed) leaves the read ahead unawaited.
      next.catch(() => undefined);
    }
  }

  recordExported(run: RetentionRun, tenant: ArchivedTenant): Promise<RetentionRun> {
    return this.asMaintenance(async (session) => {
      const [row] = await session.query<RunRow>(
        `UPDATE retention_runs SET exported = exported || jsonb_build_array($3::jsonb), updated_at = now()
         WHERE partition_month = $1 AND generation = $2 AND state = 'exporting' RETURNING ${RUN_COLUMNS}`,
        [run.month, run.generation, JSON.stringify(tenant)],
      );
      if (!row) throw new Error(`No exporting run ${run.generation} of ${monthKey(run.month)}`);
      return toRun(row);
    });
  }

  advance(run: RetentionRun, state: 'uploaded' | 'verified' | 'detached', manifest?: ArchiveManifest): Promise<RetentionRun> {
    return this.asMaintenance(async (session) => {
      const [row] = await session.query<RunRow>(
        `UPDATE retention_runs SET state = $3, manifest = coalesce($4::jsonb, manifest), updated_at = now(),
           uploaded_at = CASE WHEN $3 = 'uploaded' THEN now() ELSE uploaded_at END,
           verified_at = CASE WHEN $3 = 'verified' THEN now() ELSE verified_at END,
           detached_at = CASE WHEN $3 = 'detached' THEN now() ELSE detached_at END
         WHERE partition_month = $1 AND generation = $2 RETURNING ${RUN_COLUMNS}`,
        [run.month, run.generation, state, manifest ? JSON.stringify(manifest) : null],
      );
      if (!row) throw new Error(`No run ${run.generation} of ${monthKey(run.month)}`);
      return toRun(row);
    });
  }

  restartExport(run: RetentionRun): Promise<RetentionRun> {
    return this.asMaintenance(async (session) => {
      const [row] = await session.query<RunRow>(
        `UPDATE retention_runs SET state = 'exporting', manifest = NULL, exported = '[]', uploaded_at = NULL, verified_at = NULL, updated_at = now()
         WHERE partition_month = $1 AND generation = $2 RETURNING ${RUN_COLUMNS}`,
        [run.month, run.generation],
      );
      if (!row) throw new Error(`No run ${run.generation} of ${monthKey(run.month)}`);
      return toRun(row);
    });
  }

  /**
   * The month's events, then its rollups (migration 0016). CONCURRENTLY takes no lock that stops
   * writers or readers of other months, and refuses a transaction block, so each runs on a
   * connection of its own with a lock timeout: a long query on the partition makes this run fail
   * the month, not queue every writer behind it. A detach cut off between its two transactions
   * leaves the partition pending, finished by FINALIZE; a table already detached is skipped, so a
   * rerun after a crash between the two goes on with the rollups.
   */
  async detach(month: string): Promise<void> {
    for (const [table, parent] of [
      [partitionTable(month), 'analytics_events'],
      [rollupPartitionTable(month), 'event_rollups'],
    ] as const) {
      await this.db.withConnection(async (session) => {
        const [link] = await session.query<{ pending: boolean }>(
          `SELECT inhdetachpending AS pending FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = $2::regclass`,
          [table, parent],
        );
        if (!link) return;
        await session.query(`SELECT set_config('lock_timeout', $1, false)`, [`${this.lockTimeoutMs}ms`]);
        try {
          await session.query(`ALTER TABLE ${parent} DETACH PARTITION ${table} ${link.pending ? 'FINALIZE' : 'CONCURRENTLY'}`);
        } finally {
          await session.query(`RESET lock_timeout`);
        }
      });
    }
  }

  /**
   * Drops the detached tables of the month's events and rollups: no row of the month is deleted
   * one by one. The transaction then corrects, per tenant, what other months hold of the periods
   * before the month's end (late events of a month dropped earlier, `correctRollupsAfterPurge`),
   * so every read agrees with the events from its commit on. Tenants in id order: one run's locks
   * are always taken in the same order.
   */
  async dropArchived(run: RetentionRun & { manifest: ArchiveManifest }): Promise<void> {
    const end = monthEnd(run.month).toISOString();
    const tenants = run.manifest.tenants.map((tenant) => tenant.tenantId).sort();
    await this.db.transaction(async (session) => {
      // As the owner; the detached tables are no longer part of what readers see.
      await session.query(`DROP TABLE IF EXISTS ${partitionTable(run.month)}, ${rollupPartitionTable(run.month)}`);
      for (const tenantId of tenants) {
        await scopeToTenant(session, tenantId);
        await correctRollupsAfterPurge(session, tenantId, end);
      }
      await session.query(`SELECT set_config('role', $1, true)`, [MAINTENANCE_ROLE]);
      await session.query(
        `INSERT INTO audit_log (tenant_id, action, actor, details)
         SELECT t."tenantId", 'EVENTS_PURGED', $1, jsonb_build_object('reason', 'retention', 'month', $2::text, 'generation', $3::int,
           'deleted', t.rows, 'archiveKey', t.key, 'sha256', t.sha256)
         FROM jsonb_to_recordset($4::jsonb) AS t("tenantId" uuid, rows int, key text, sha256 text)`,
        [this.actor, run.manifest.month, run.generation, JSON.stringify(run.manifest.tenants)],
      );
      await session.query(`UPDATE retention_runs SET state = 'dropped', dropped_at = now(), updated_at = now() WHERE partition_month = $1 AND generation = $2`, [
        run.month,
        run.generation,
      ]);
      // The rows a tenant's run had not deleted yet are in this archive now.
      await session.query(`UPDATE tenant_retention_runs SET state = 'superseded', updated_at = now() WHERE partition_month = $1 AND state NOT IN ('deleted', 'superseded')`, [
        run.month,
      ]);
    });
  }

  openTenantRun(month: string, tenantId: string): Promise<TenantRetentionRun | undefined> {
    return this.asMaintenance(async (session) => {
      const [open] = await session.query<TenantRunRow>(
        `SELECT ${TENANT_RUN_COLUMNS} FROM tenant_retention_runs WHERE partition_month = $1 AND tenant_id = $2 AND state NOT IN ('deleted', 'superseded')`,
        [month, tenantId],
      );
      if (open) return toTenantRun(open);
      const [found] = await session.query<{ found: boolean }>(
        `SELECT EXISTS (SELECT FROM analytics_events WHERE tenant_id = $1 AND timestamp >= $2::timestamptz AND timestamp < $3::timestamptz) AS found`,
        [tenantId, month, monthEnd(month).toISOString()],
      );
      if (!found?.found) return undefined;
      const [last] = await session.query<{ generation: number | null }>(
        `SELECT max(generation) AS generation FROM tenant_retention_runs WHERE partition_month = $1 AND tenant_id = $2`,
        [month, tenantId],
      );
      const generation = (last?.generation ?? 0) + 1;
      const [created] = await session.query<TenantRunRow>(
        `INSERT INTO tenant_retention_runs (partition_month, tenant_id, generation, state, archive_prefix, stored_before)
         VALUES ($1, $2, $3, 'exporting', $4, clock_timestamp()) RETURNING ${TENANT_RUN_COLUMNS}`,
        [month, tenantId, generation, tenantArchivePrefix(month, tenantId, generation)],
      );
      if (!created) throw new Error(`No run recorded for tenant ${tenantId} in ${monthKey(month)}`);
      return toTenantRun(created);
    });
  }

  async tenantRowsStoredBefore(month: string, tenantId: string, storedBefore: string): Promise<number> {
    const [row] = await this.db.query<{ rows: number }>(
      `SELECT count(*)::int AS rows FROM ${partitionTable(month)} WHERE tenant_id = $1 AND stored_at < $2::timestamptz`,
      [tenantId, storedBefore],
    );
    return row?.rows ?? 0;
  }

  advanceTenantRun(run: TenantRetentionRun, state: 'uploaded' | 'verified', manifest?: ArchiveManifest): Promise<TenantRetentionRun> {
    return this.updateTenantRun(
      run,
      `state = $4, manifest = coalesce($5::jsonb, manifest),
       uploaded_at = CASE WHEN $4 = 'uploaded' THEN now() ELSE uploaded_at END,
       verified_at = CASE WHEN $4 = 'verified' THEN now() ELSE verified_at END`,
      [state, manifest ? JSON.stringify(manifest) : null],
    );
  }

  restartTenantExport(run: TenantRetentionRun): Promise<TenantRetentionRun> {
    return this.updateTenantRun(run, `state = 'exporting', manifest = NULL, uploaded_at = NULL, verified_at = NULL, stored_before = clock_timestamp()`, []);
  }

  /**
   * Batches as the admin purge's, only of the run's month and of rows stored before the export
   * began; the rollups of the periods it empties go first, outside any lock (see `correctRollupsAfterPurge`).
   */
  async deleteArchivedTenantRows(run: TenantRetentionRun & { manifest: ArchiveManifest }): Promise<void> {
    const end = monthEnd(run.month).toISOString();
    const archived = run.manifest.tenants.find((tenant) => tenant.tenantId === run.tenantId);
    if (!archived) throw new Error(`The manifest of ${run.archivePrefix} does not list tenant ${run.tenantId}`);
    await deleteRollupsOfEmptiedPeriods(this.db, run.tenantId, end, this.pruneBatch, this.pace);
    for (;;) {
      const finished = await inTenantTransaction(this.db, run.tenantId, async (session) => {
        const [gone] = await session.query<{ n: number }>(DELETE_TENANT_ROWS, [
          run.tenantId,
          run.month,
          end,
          run.storedBefore,
          this.pruneBatch,
        ]);
        const inBatch = gone?.n ?? 0;
        const last = inBatch < this.pruneBatch;
        if (last) await correctRollupsAfterPurge(session, run.tenantId, end);
        await session.query(`SELECT set_config('role', $1, true)`, [MAINTENANCE_ROLE]);
        const [counted] = await session.query<{ deleted_rows: number }>(
          `UPDATE tenant_retention_runs SET deleted_rows = deleted_rows + $4, updated_at = now(),
             state = CASE WHEN $5 THEN 'deleted' ELSE state END, deleted_at = CASE WHEN $5 THEN now() ELSE deleted_at END
           WHERE partition_month = $1 AND tenant_id = $2 AND generation = $3 RETURNING deleted_rows`,
          [run.month, run.tenantId, run.generation, inBatch, last],
        );
        if (!last) return false;
        // More than archived would be rows deleted that no archive holds: undo the batch and stop.
        // Fewer is an admin purge that took some meanwhile.
        if ((counted?.deleted_rows ?? 0) > archived.rows) {
          throw new Error(`tenant ${run.tenantId} in ${monthKey(run.month)}: ${counted?.deleted_rows ?? 0} rows deleted, ${archived.rows} archived`);
        }
        await session.query(
          `INSERT INTO audit_log (tenant_id, action, actor, details)
           VALUES ($1, 'EVENTS_PURGED', $2, jsonb_build_object('reason', 'tenant retention', 'month', $3::text, 'generation', $4::int,
             'deleted', $5::int, 'archiveKey', $6::text, 'sha256', $7::text))`,
          [run.tenantId, this.actor, run.manifest.month, run.generation, counted?.deleted_rows ?? 0, archived.key, archived.sha256],
        );
        return true;
      });
      if (finished) return;
      await this.pace.pause();
    }
  }

  /**
   * Month by month, on each partition's own table: a ctid names a row of one table only, so a
   * batch by ctid through the parent would delete the rows at those places in every month. As
   * the owner, as the drop is: the partitions carry no right of the maintenance role.
   */
  async pruneRollups(cutoff: Date): Promise<number> {
    const tables = await this.db.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'event_rollups'::regclass AND c.relname ~ '^event_rollups_[0-9]{4}_[0-9]{2}$'
         AND to_date(substr(c.relname, 15), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC' < $1::timestamptz ORDER BY 1`,
      [cutoff],
    );
    let pruned = 0;
    for (const { table } of tables) pruned += await this.pruneInBatches(table, 'period_start < $1', cutoff, (work) => this.db.transaction(work));
    return pruned;
  }

  pruneDedupe(cutoff: Date): Promise<number> {
    return this.pruneInBatches('event_dedupe', 'event_timestamp < $1', cutoff, (work) => this.asMaintenance(work));
  }

  /**
   * Per tenant, under the lock that numbering takes (`pg-event-sets.ts`): a number is freed only
   * while no set is being built with it, and only when no remaining event has its member.
   */
  async pruneSetMembers(): Promise<number> {
    const tenants = await this.asMaintenance((session) => session.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM set_members`));
    let pruned = 0;
    for (const { tenant_id: tenantId } of tenants) {
      for (;;) {
        const counts = await this.asMaintenance(async (session) => {
          await session.query(`SELECT pg_advisory_xact_lock(hashtextextended('set_members ' || $1, 0))`, [tenantId]);
          const removed = await Promise.all([UNUSED_USERS, UNUSED_SESSIONS].map((statement) => session.query<{ deleted: number }>(statement, [tenantId, this.pruneBatch])));
          return removed.flat();
        });
        const deleted = counts.map((count) => count.deleted);
        pruned += deleted.reduce((sum, count) => sum + count, 0);
        if (deleted.every((count) => count < this.pruneBatch)) break;
        await this.pace.pause();
      }
    }
    return pruned;
  }

  /**
   * One index step per tenant (a loose index scan of the rollups' keys, which lead with the
   * tenant), where `SELECT DISTINCT` would read every rollup row.
   */
  async tenantsWithRollups(): Promise<string[]> {
    const rows = await this.asMaintenance((session) =>
      session.query<{ tenant_id: string }>(
        `WITH RECURSIVE tenants AS (
           -- ORDER BY ... LIMIT 1, not min(): Postgres 15 has no min(uuid).
           (SELECT tenant_id FROM event_rollups ORDER BY tenant_id LIMIT 1)
           UNION ALL
           SELECT (SELECT r.tenant_id FROM event_rollups r WHERE r.tenant_id > tenants.tenant_id ORDER BY r.tenant_id LIMIT 1) FROM tenants WHERE tenants.tenant_id IS NOT NULL
         )
         SELECT tenant_id FROM tenants WHERE tenant_id IS NOT NULL`,
      ),
    );
    return rows.map((row) => row.tenant_id);
  }

  /**
   * A batch is the rows' ctids: a key `IN (SELECT ... LIMIT)` was planned as a hash semi-join
   * over a sequential scan of the whole table, so each batch of 5,000 dedupe rows read all of
   * a million (0.6-0.8 s a batch against 0.05-0.2 by ctid; docs/benchmarks.md, Retention).
   */
  private async pruneInBatches(table: string, expired: string, cutoff: Date, asRole: <T>(work: (session: SqlSession) => Promise<T>) => Promise<T>): Promise<number> {
    const statement = `WITH d AS (DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} WHERE ${expired} LIMIT $2)) RETURNING 1)
      SELECT count(*)::int AS deleted FROM d`;
    let pruned = 0;
    for (;;) {
      const deleted = await asRole(async (session) => {
        const rows = await session.query<{ deleted: number }>(statement, [cutoff, this.pruneBatch]);
        return rows[0]?.deleted ?? 0;
      });
      pruned += deleted;
      if (deleted < this.pruneBatch) return pruned;
      await this.pace.pause();
    }
  }

  private updateTenantRun(run: TenantRetentionRun, assignments: string, values: unknown[]): Promise<TenantRetentionRun> {
    return this.asMaintenance(async (session) => {
      const [row] = await session.query<TenantRunRow>(
        `UPDATE tenant_retention_runs SET ${assignments}, updated_at = now()
         WHERE partition_month = $1 AND tenant_id = $2 AND generation = $3 RETURNING ${TENANT_RUN_COLUMNS}`,
        [run.month, run.tenantId, run.generation, ...values],
      );
      if (!row) throw new Error(`No run ${run.generation} of tenant ${run.tenantId} in ${monthKey(run.month)}`);
      return toTenantRun(row);
    });
  }

  private asMaintenance<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.db.transaction(async (session) => {
      await session.query(`SELECT set_config('role', $1, true)`, [MAINTENANCE_ROLE]);
      return work(session);
    });
  }
}
