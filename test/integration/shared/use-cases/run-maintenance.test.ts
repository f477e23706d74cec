import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import pg from 'pg';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DirEventArchive } from '../../../../lambdas/shared/adapters/local/dir-event-archive.js';
import { PgEventSets } from '../../../../lambdas/shared/adapters/pg/pg-event-sets.js';
import { PgEventStore } from '../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { PgArchiveRestore } from '../../../../lambdas/shared/adapters/pg/pg-archive-restore.js';
import { PgRetentionStore } from '../../../../lambdas/shared/adapters/pg/pg-retention-store.js';
import { openDatabase, type SqlDatabase } from '../../../../lambdas/shared/adapters/pg/sql-database.js';
import { StoredEventSchema, type StoredEvent } from '../../../../lambdas/shared/domain/answer-schemas.js';
import type { EventArchive } from '../../../../lambdas/shared/ports/event-archive.js';
import { MaintenanceIncompleteError, runMaintenance, type MaintenanceDeps, type MaintenanceStep, type MaintenanceSummary } from '../../../../lambdas/shared/use-cases/run-maintenance.js';
import { restoreArchive } from '../../../../lambdas/shared/use-cases/restore-archive.js';
import { recordMetrics } from '../../../support/emf.js';
import { rollupMismatches } from '../../../support/rollup-check.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent } from '../../../support/factories.js';
import { tempDirPerTest } from '../../../support/temp-dir.js';
import { createServerDatabase, createTestDatabase, type TestDatabase } from '../../../support/test-database.js';

const NOW = new Date('2026-06-15T12:00:00Z');
const SETTINGS = { eventRetentionDays: 90, rollupRetentionDays: 365 };
const JANUARY = '2026-01-01';
const USER_OF_JANUARY = randomUUID();
const USER_OF_APRIL = randomUUID();
const TENANT_C = '33333333-3333-4333-8333-333333333333';

const serverUrl = process.env['DATABASE_URL'];
const backends: Array<[string, () => Promise<TestDatabase>]> = [
  ['PGlite', async () => {
    const previous = process.env['DATABASE_URL'];
    delete process.env['DATABASE_URL'];
    try {
      return await createTestDatabase();
    } finally {
      if (previous !== undefined) process.env['DATABASE_URL'] = previous;
    }
  }],
  ...(serverUrl ? [['Postgres', () => createServerDatabase(serverUrl, 'tracker_retention')] as [string, () => Promise<TestDatabase>]] : []),
];

class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

const crashAfter = (step: MaintenanceStep) => (reached: MaintenanceStep) => {
  if (reached === step) throw new SimulatedCrash(`crash after ${step}`);
};

/** An archive that refuses every write: the target is down. */
class DownArchive implements EventArchive {
  constructor(private readonly inner: EventArchive) {}
  async put(_key: string, body: Readable): Promise<void> {
    body.destroy();
    throw new Error('connect ECONNREFUSED archive');
  }
  get(key: string): Promise<Readable> {
    return this.inner.get(key);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
}

/** An archive whose objects come back with one byte changed: a damaged copy. */
class CorruptingArchive implements EventArchive {
  constructor(private readonly inner: EventArchive) {}
  put(key: string, body: Readable, contentType: string): Promise<void> {
    return this.inner.put(key, body, contentType);
  }
  async get(key: string): Promise<Readable> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.inner.get(key)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (key.endsWith('.jsonl.gz')) bytes[bytes.length - 9] = (bytes[bytes.length - 9] ?? 0) ^ 0xff;
    return Readable.from([bytes]);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
}

describe.each(backends)('the retention job on %s', (name, createDatabase) => {
  const archiveDir = tempDirPerTest('archive-');
  let testDb: TestDatabase;
  let db: SqlDatabase;
  let archive: DirEventArchive;
  /** Every event as the API answers it, per tenant, before the job ran. */
  let januaryEvents: Map<string, StoredEvent[]>;

  const deps = (overrides: Partial<MaintenanceDeps> = {}): MaintenanceDeps => ({ store: new PgRetentionStore(db), archive, settings: SETTINGS, ...overrides });

  beforeAll(async () => {
    testDb = await createDatabase();
    db = testDb.db;
  });

  afterAll(async () => {
    await testDb.drop();
  });

  beforeEach(async () => {
    // The summaries and metric lines of every run; the tests that read them spy again.
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const partitions = await db.query<{ name: string }>(`SELECT relname AS name FROM pg_class WHERE relkind = 'r' AND relname ~ '^analytics_events_[0-9]{4}_[0-9]{2}$'`);
    for (const { name } of partitions) await db.exec(`DROP TABLE ${name}`);
    await db.exec('TRUNCATE event_rollups, event_dedupe, audit_log, set_members, event_sets, retention_runs, tenant_retention_runs');
    archive = new DirEventArchive(archiveDir());
    const store = new PgEventStore(db);
    januaryEvents = new Map();
    for (const tenantId of [TENANT_A, TENANT_B]) {
      const events = Array.from({ length: 7 }, (_, index) =>
        trackedEvent({ timestamp: `2026-01-${String(10 + index).padStart(2, '0')}T08:00:00.000Z`, receivedAt: '2026-01-20T08:00:00.000Z', userId: USER_OF_JANUARY, value: index, properties: { index } }),
      );
      await store.writeMessages([received(envelope(events, { tenantId }))]);
      const stored = await Promise.all(events.map((event) => store.findEvent(tenantId, event.eventId)));
      januaryEvents.set(tenantId, stored.flatMap((event) => (event ? [event] : [])));
    }
    await store.writeMessages([received(envelope([trackedEvent({ timestamp: '2026-04-20T08:00:00.000Z', receivedAt: '2026-04-20T08:00:00.000Z', userId: USER_OF_APRIL })], { tenantId: TENANT_A }))]);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  const tableExists = async (table: string) => (await db.query<{ found: string | null }>(`SELECT to_regclass($1)::text AS found`, [table]))[0]?.found !== null;

  async function archivedLines(key: string): Promise<StoredEvent[]> {
    const chunks: Buffer[] = [];
    for await (const chunk of await archive.get(key)) chunks.push(chunk as Buffer);
    return gunzipSync(Buffer.concat(chunks)).toString('utf8').trimEnd().split('\n').map((line) => StoredEventSchema.parse(JSON.parse(line)));
  }

  /** January archived once, every event in it as the API answered it, then dropped and audited once. */
  async function expectJanuaryArchivedOnce(): Promise<void> {
    expect(await tableExists('analytics_events_2026_01')).toBe(false);
    expect(await tableExists('event_rollups_2026_01')).toBe(false);
    const runs = await db.query<{ generation: number; state: string }>(`SELECT generation, state FROM retention_runs WHERE partition_month = $1`, [JANUARY]);
    expect(runs).toEqual([{ generation: 1, state: 'dropped' }]);
    expect(await archive.list('events/2026-01/')).toEqual([`events/2026-01/run-1/${TENANT_A}.jsonl.gz`, `events/2026-01/run-1/${TENANT_B}.jsonl.gz`, 'events/2026-01/run-1/manifest.json']);
    for (const [tenantId, events] of januaryEvents) {
      const lines = await archivedLines(`events/2026-01/run-1/${tenantId}.jsonl.gz`);
      expect(lines).toHaveLength(7);
      expect(new Map(lines.map((line) => [line.eventId, line]))).toEqual(new Map(events.map((event) => [event.eventId, event])));
    }
    const audits = await db.query<{ tenant_id: string; details: Record<string, unknown> }>(
      `SELECT tenant_id, details FROM audit_log WHERE action = 'EVENTS_PURGED' ORDER BY tenant_id`,
    );
    expect(audits.map((audit) => [audit.tenant_id, audit.details['month'], audit.details['deleted'], audit.details['archiveKey']])).toEqual([
      [TENANT_A, '2026-01', 7, `events/2026-01/run-1/${TENANT_A}.jsonl.gz`],
      [TENANT_B, '2026-01', 7, `events/2026-01/run-1/${TENANT_B}.jsonl.gz`],
    ]);
    expect(audits.every((audit) => /^[0-9a-f]{64}$/.test(String(audit.details['sha256'])))).toBe(true);
    const [april] = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM analytics_events`);
    expect(april?.count).toBe(1);
    // Every read agrees with the events left: January's rollups went with its events, April's stay.
    const rollups = await db.query<{ granularity: string; count: number }>(`SELECT granularity, sum(count)::int AS count FROM event_rollups GROUP BY 1 ORDER BY 1`);
    expect(rollups).toEqual(['day', 'hour', 'minute', 'type_day', 'type_hour'].map((granularity) => ({ granularity, count: 1 })));
  }

  it('archives, verifies and drops an expired month, keeps the months ahead, and changes nothing when run again', async () => {
    const summary = await runMaintenance(deps(), NOW);

    expect(summary.archived).toEqual([{ month: JANUARY, generation: 1, tenants: 2, rows: 14 }]);
    expect(summary.createdPartitions).toEqual(['2026-06-01', '2026-07-01', '2026-08-01', '2026-09-01']);
    await expectJanuaryArchivedOnce();
    const again = await runMaintenance(deps(), NOW);
    expect(again.archived).toEqual([]);
    expect(again.createdPartitions).toEqual([]);
    await expectJanuaryArchivedOnce();
  });

  it.each<MaintenanceStep>(['partitions', 'exported', 'uploaded', 'verified', 'detached', 'dropped', 'pruned'])('ends archived exactly once when a run crashes right after %s', async (step) => {
    const crashing = deps({ afterStep: crashAfter(step) });

    await expect(runMaintenance(crashing, NOW)).rejects.toThrow(/crash after/);
    await runMaintenance(deps(), NOW);

    await expectJanuaryArchivedOnce();
  });

  it("goes on with the month's rollups when a crash came between detaching its events and its rollups", async () => {
    await expect(runMaintenance(deps({ afterStep: crashAfter('verified') }), NOW)).rejects.toThrow(/crash after/);
    await db.query('ALTER TABLE analytics_events DETACH PARTITION analytics_events_2026_01');
    expect(await tableExists('event_rollups_2026_01')).toBe(true);

    await runMaintenance(deps(), NOW);

    await expectJanuaryArchivedOnce();
  });

  // A detach cut off between its two transactions: only a server has a second session to cut it.
  it.runIf(name === 'Postgres')('finishes with FINALIZE a detach that a crash left pending', async () => {
    await expect(runMaintenance(deps({ afterStep: crashAfter('verified') }), NOW)).rejects.toThrow(/crash after/);
    const reader = new pg.Client({ connectionString: testDb.url });
    const detacher = new pg.Client({ connectionString: testDb.url });
    await Promise.all([reader.connect(), detacher.connect()]);
    try {
      // A reader of the table makes the detach's second transaction wait; cancelled there, it stays pending.
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM analytics_events');
      const detaching = detacher.query('ALTER TABLE analytics_events DETACH PARTITION analytics_events_2026_01 CONCURRENTLY').catch((error: unknown) => error);
      for (let attempt = 0; attempt < 100; attempt++) {
        const waiting = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE analytics_events DETACH%' AND wait_event_type = 'Lock'`);
        if (waiting[0]) {
          await db.query('SELECT pg_cancel_backend($1)', [waiting[0].pid]);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(String(await detaching)).toMatch(/canceling statement/);
      await reader.query('COMMIT');
    } finally {
      await Promise.all([reader.end(), detacher.end()]);
    }
    const [link] = await db.query<{ pending: boolean }>(`SELECT inhdetachpending AS pending FROM pg_inherits WHERE inhrelid = 'analytics_events_2026_01'::regclass`);
    expect(link?.pending).toBe(true);

    await runMaintenance(deps(), NOW);

    await expectJanuaryArchivedOnce();
  });

  it('exports a tenant over many pages in time order, events of one instant each once', async () => {
    const instant = '2026-01-12T08:00:00.000Z';
    const store = new PgEventStore(db);
    const sameInstant = Array.from({ length: 4 }, () => trackedEvent({ timestamp: instant, receivedAt: '2026-01-20T08:00:00.000Z' }));
    await store.writeMessages([received(envelope(sameInstant, { tenantId: TENANT_A }))]);
    const stored = await Promise.all(sameInstant.map((event) => store.findEvent(TENANT_A, event.eventId)));

    const summary = await runMaintenance(deps({ store: new PgRetentionStore(db, { exportPage: 2 }) }), NOW);

    expect(summary.archived).toEqual([{ month: JANUARY, generation: 1, tenants: 2, rows: 18 }]);
    const lines = await archivedLines(`events/2026-01/run-1/${TENANT_A}.jsonl.gz`);
    const expected = [...(januaryEvents.get(TENANT_A) ?? []), ...stored.flatMap((event) => (event ? [event] : []))];
    expect(lines).toHaveLength(11);
    expect(new Map(lines.map((line) => [line.eventId, line]))).toEqual(new Map(expected.map((event) => [event.eventId, event])));
    expect(lines.map((line) => line.timestamp)).toEqual(expected.map((event) => event.timestamp).sort());
  });

  it('ends archived exactly once when a run dies between two tenants of the export', async () => {
    let puts = 0;
    const dying: EventArchive = {
      put: async (key, body, type) => {
        puts += 1;
        if (puts === 2) {
          body.destroy();
          throw new SimulatedCrash('died mid-export');
        }
        return archive.put(key, body, type);
      },
      get: (key) => archive.get(key),
      list: (prefix) => archive.list(prefix),
    };

    await expect(runMaintenance(deps({ archive: dying }), NOW)).rejects.toThrow(MaintenanceIncompleteError);
    expect(await tableExists('analytics_events_2026_01')).toBe(true);
    await runMaintenance(deps(), NOW);

    await expectJanuaryArchivedOnce();
  });

  it('resumes an export cut off after a tenant at the next tenant, not uploading the first again', async () => {
    const keys: string[] = [];
    const counting: EventArchive = {
      put: (key, body, type) => {
        keys.push(key);
        return archive.put(key, body, type);
      },
      get: (key) => archive.get(key),
      list: (prefix) => archive.list(prefix),
    };

    await expect(runMaintenance(deps({ afterStep: crashAfter('exported') }), NOW)).rejects.toThrow(/crash after/);
    keys.length = 0;
    await runMaintenance(deps({ archive: counting }), NOW);

    expect(keys).toEqual([`events/2026-01/run-1/${TENANT_B}.jsonl.gz`, 'events/2026-01/run-1/manifest.json']);
    await expectJanuaryArchivedOnce();
  });

  it('exports again every tenant of a resumed export when a row arrived in one already uploaded', async () => {
    await expect(runMaintenance(deps({ afterStep: crashAfter('exported') }), NOW)).rejects.toThrow(/crash after/);
    const late = trackedEvent({ timestamp: '2026-01-25T08:00:00.000Z', receivedAt: '2026-06-15T08:00:00.000Z' });
    await new PgEventStore(db).writeMessages([received(envelope([late], { tenantId: TENANT_A }))]);

    const summary = await runMaintenance(deps(), NOW);

    expect(summary.archived).toEqual([{ month: JANUARY, generation: 1, tenants: 2, rows: 15 }]);
    expect((await archivedLines(`events/2026-01/run-1/${TENANT_A}.jsonl.gz`)).map((line) => line.eventId)).toContain(late.eventId);
  });

  it('rests between export pages, archive reads and batches when paced', async () => {
    let pauses = 0;
    const pace = { pause: async () => void (pauses += 1) };

    await runMaintenance(deps({ store: new PgRetentionStore(db, { exportPage: 2, pruneBatch: 2, pace }), pace }), NOW);

    // Per tenant three full pages of seven events, and dedupe batches of two.
    expect(pauses).toBeGreaterThanOrEqual(2 * 3 + 7);
    await expectJanuaryArchivedOnce();
  });

  it('leaves the partition in place and the job retryable while the archive is down', async () => {
    await expect(runMaintenance(deps({ archive: new DownArchive(archive) }), NOW)).rejects.toThrow(/ECONNREFUSED/);

    const [rows] = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM analytics_events_2026_01`);
    expect(rows?.count).toBe(14);
    const [run] = await db.query<{ state: string }>(`SELECT state FROM retention_runs WHERE partition_month = $1`, [JANUARY]);
    expect(run?.state).toBe('exporting');
    await runMaintenance(deps(), NOW);
    await expectJanuaryArchivedOnce();
  });

  it('drops nothing, counts ArchiveVerifyFailed and logs an error when the archive reads back different', async () => {
    const metrics = recordMetrics();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});

    await expect(runMaintenance(deps({ archive: new CorruptingArchive(archive) }), NOW)).rejects.toThrow(MaintenanceIncompleteError);

    expect(await tableExists('analytics_events_2026_01')).toBe(true);
    expect(metrics.datapoints()).toContainEqual({ metric: 'ArchiveVerifyFailed', dimensions: {}, value: 1 });
    expect(errors.mock.calls.map(([line]) => JSON.parse(String(line)).message)).toContain('archive verify failed: nothing dropped, the next run exports again');
    const [audits] = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM audit_log WHERE action = 'EVENTS_PURGED'`);
    expect(audits?.count).toBe(0);
  });

  it('does no harm when a run starts while another holds the lock: one runs, the other skips', async () => {
    const other = testDb.url ? await openDatabase({ databaseUrl: testDb.url, poolSize: 2 }) : db;
    try {
      // The second run starts inside the first, so that they overlap however slow the machine is.
      let second: Promise<MaintenanceSummary> | undefined;
      const holdLockUntilSecondEnds = async (step: MaintenanceStep) => {
        if (step !== 'partitions' || second) return;
        second = runMaintenance(deps({ store: new PgRetentionStore(other) }), NOW);
        await second;
      };
      const first = await runMaintenance(deps({ afterStep: holdLockUntilSecondEnds }), NOW);

      expect([first.skipped, (await second)?.skipped]).toEqual([false, true]);
      await expectJanuaryArchivedOnce();
    } finally {
      if (other !== db) await other.close();
    }
  });

  it('prunes rollups past their retention, dedupe rows past their window, and numbers only expired events used', async () => {
    await new PgEventStore(db).writeMessages([received(envelope([trackedEvent({ timestamp: '2025-05-02T08:00:00.000Z', receivedAt: '2025-05-02T08:00:00.000Z' })], { tenantId: TENANT_B }))]);
    // The dictionary as the test states it, in place of the numbers the writers gave when they kept their sets.
    await db.query(`DELETE FROM set_members`);
    await db.query(`INSERT INTO set_members (tenant_id, kind, member, number) VALUES ($1, 'u', $2, 1), ($1, 'u', $3, 2)`, [TENANT_A, USER_OF_JANUARY, USER_OF_APRIL]);
    // Rollups of a tenant with no events' partition to drop (a month's rollups alone, as an older
    // release left them): only the rollup retention (365 days, cut at 2025-06-15) removes them.
    await db.query(`CREATE TABLE event_rollups_2025_06 PARTITION OF event_rollups FOR VALUES FROM ('2025-06-01 00:00:00+00') TO ('2025-07-01 00:00:00+00')`);
    await db.query(
      `INSERT INTO event_rollups (tenant_id, granularity, period_start, event_type, category, action, count, value_count, total_value)
       VALUES ($1, 'day', '2025-06-14T00:00:00Z', 'CUSTOM', 'old', 'run', 1, 0, 0), ($1, 'day', '2025-06-15T00:00:00Z', 'CUSTOM', 'kept', 'run', 1, 0, 0)`,
      [TENANT_C],
    );

    const summary = await runMaintenance(deps(), NOW);

    const rollups = await db.query<{ category: string }>(`SELECT category FROM event_rollups WHERE tenant_id = $1`, [TENANT_C]);
    expect(rollups).toEqual([{ category: 'kept' }]);
    expect(summary.prunedRollups).toBe(1);
    const [dedupe] = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM event_dedupe WHERE event_timestamp < '2026-03-01'`);
    expect(dedupe?.count).toBe(0);
    const members = await db.query<{ member: string }>(`SELECT member FROM set_members`);
    expect(members).toEqual([{ member: USER_OF_APRIL }]);
    expect(summary.prunedSetMembers).toBe(1);
    expect(summary.archived.map((month) => month.month)).toEqual(['2025-05-01', JANUARY]);
  });

  it('keeps the event sets the writer left stale or missing, within its budget', async () => {
    const tenantId = randomUUID();
    const days = ['2026-06-10', '2026-06-11', '2026-06-12'];
    const events = days.flatMap((day) => Array.from({ length: 4 }, (_, i) => trackedEvent({ timestamp: `${day}T0${i}:30:00.000Z`, userId: randomUUID(), category: `c${i % 2}` })));
    await new PgEventStore(db, { keepSets: false }).writeMessages([received(envelope(events, { tenantId }))]);
    const sets = new PgEventSets(db);
    const touched = { from: Date.parse('2026-06-10T00:00:00Z'), to: Date.parse('2026-06-12T23:59:59Z') };

    const outOfTime = await runMaintenance(deps({ sets, setKeepingBudgetMs: 0 }), NOW);
    expect(outOfTime.keptSets).toEqual({ periods: 0, finished: false });

    const summary = await runMaintenance(deps({ sets }), NOW);

    // Each day, and its four hours with events (the other hours have no rollups to check a set against).
    expect(summary.keptSets).toMatchObject({ finished: true });
    expect(summary.keptSets.periods).toBeGreaterThanOrEqual(days.length * 5);
    expect(await sets.keep(tenantId, touched)).toBe(0);
  });

  describe('a tenant with a shorter retention', () => {
    // 30 days before 2026-06-15 12:00 is 2026-05-16 12:00: April is past it, and January past everyone's.
    const shorter = (overrides: Partial<MaintenanceDeps> = {}) => deps({ settings: { ...SETTINGS, tenantEventDays: { [TENANT_A]: 30 } }, ...overrides });
    const APRIL = '2026-04-01';
    const TENANT_A_APRIL = `events/2026-04/tenant-${TENANT_A}/run-1/`;

    const writeApril = (tenantId: string) =>
      new PgEventStore(db).writeMessages([received(envelope([trackedEvent({ timestamp: '2026-04-21T08:00:00.000Z', receivedAt: '2026-04-21T08:00:00.000Z' })], { tenantId }))]);

    const aprilRows = async () =>
      db.query<{ tenant_id: string; count: number }>(`SELECT tenant_id, count(*)::int AS count FROM analytics_events_2026_04 GROUP BY 1 ORDER BY 1`);

    /** Tenant A's April row archived once under its own prefix, deleted and audited once; B's row and the partition stay. */
    async function expectTenantAprilArchivedOnce(): Promise<void> {
      expect(await aprilRows()).toEqual([{ tenant_id: TENANT_B, count: 1 }]);
      const runs = await db.query<{ generation: number; state: string; deleted_rows: number }>(
        `SELECT generation, state, deleted_rows FROM tenant_retention_runs WHERE partition_month = $1 AND tenant_id = $2`,
        [APRIL, TENANT_A],
      );
      expect(runs).toEqual([{ generation: 1, state: 'deleted', deleted_rows: 1 }]);
      expect(await archive.list(`events/2026-04/`)).toEqual([`${TENANT_A_APRIL}${TENANT_A}.jsonl.gz`, `${TENANT_A_APRIL}manifest.json`]);
      expect(await archivedLines(`${TENANT_A_APRIL}${TENANT_A}.jsonl.gz`)).toHaveLength(1);
      const audits = await db.query<{ tenant_id: string; details: Record<string, unknown> }>(
        `SELECT tenant_id, details FROM audit_log WHERE action = 'EVENTS_PURGED' AND details->>'reason' = 'tenant retention'`,
      );
      expect(audits.map((audit) => [audit.tenant_id, audit.details['month'], audit.details['deleted'], audit.details['archiveKey']])).toEqual([
        [TENANT_A, '2026-04', 1, `${TENANT_A_APRIL}${TENANT_A}.jsonl.gz`],
      ]);
      expect(await rollupMismatches(db)).toEqual([]);
      const [sets] = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM event_sets WHERE tenant_id = $1 AND period_start < '2026-05-01'`, [TENANT_A]);
      expect(sets?.count).toBe(0);
    }

    beforeEach(async () => {
      await writeApril(TENANT_B);
    });

    it('archives and deletes its rows of the months past its days, leaves the other tenants and the partition, and changes nothing when run again', async () => {
      const summary = await runMaintenance(shorter(), NOW);

      expect(summary.tenantPurged).toEqual([{ tenantId: TENANT_A, month: APRIL, generation: 1, rows: 1 }]);
      expect(summary.archived.map((month) => month.month)).toEqual([JANUARY]);
      await expectTenantAprilArchivedOnce();
      expect((await runMaintenance(shorter(), NOW)).tenantPurged).toEqual([]);
      await expectTenantAprilArchivedOnce();
    });

    it.each<MaintenanceStep>(['tenant-uploaded', 'tenant-verified', 'tenant-deleted'])('ends archived and deleted exactly once when a run crashes right after %s', async (step) => {
      await expect(runMaintenance(shorter({ afterStep: crashAfter(step) }), NOW)).rejects.toThrow(/crash after/);
      await runMaintenance(shorter(), NOW);

      await expectTenantAprilArchivedOnce();
    });

    it('leaves a row stored after the export began for the next run, which archives it under the next generation', async () => {
      await expect(runMaintenance(shorter({ afterStep: crashAfter('tenant-uploaded') }), NOW)).rejects.toThrow(/crash after/);
      await writeApril(TENANT_A);

      const resumed = await runMaintenance(shorter(), NOW);

      expect(resumed.tenantPurged).toEqual([{ tenantId: TENANT_A, month: APRIL, generation: 1, rows: 1 }]);
      expect(await aprilRows()).toEqual([{ tenant_id: TENANT_A, count: 1 }, { tenant_id: TENANT_B, count: 1 }]);
      const next = await runMaintenance(shorter(), NOW);
      expect(next.tenantPurged).toEqual([{ tenantId: TENANT_A, month: APRIL, generation: 2, rows: 1 }]);
      expect(await aprilRows()).toEqual([{ tenant_id: TENANT_B, count: 1 }]);
      expect(await rollupMismatches(db)).toEqual([]);
    });

    it('restores the tenant\'s archived rows with the month, for that tenant alone', async () => {
      await runMaintenance(shorter(), NOW);

      const restored = await restoreArchive(archive, new PgArchiveRestore(db), { month: '2026-04', tenantId: TENANT_A });

      expect(restored).toMatchObject({ table: 'archive_2026_04', tenants: 1, rows: 1 });
      const rows = await db.query<{ tenant_id: string }>(`SELECT tenant_id FROM archive_2026_04`);
      expect(rows).toEqual([{ tenant_id: TENANT_A }]);
      await db.exec('DROP TABLE archive_2026_04');
    });

    it('leaves to the partition\'s archive a tenant run that the month\'s expiry overtook', async () => {
      await expect(runMaintenance(shorter({ afterStep: crashAfter('tenant-uploaded') }), NOW)).rejects.toThrow(/crash after/);

      // 2026-10-01 - 104 days is past the end of April: the whole partition goes, the tenant's row with it.
      const later = await runMaintenance(shorter(), new Date('2026-10-01T00:00:00Z'));

      expect(later.archived.map((month) => [month.month, month.rows])).toContainEqual([APRIL, 2]);
      expect(later.tenantPurged).toEqual([]);
      const runs = await db.query<{ state: string }>(`SELECT state FROM tenant_retention_runs WHERE tenant_id = $1`, [TENANT_A]);
      expect(runs).toEqual([{ state: 'superseded' }]);
      expect(await tableExists('analytics_events_2026_04')).toBe(false);
    });

    it('deletes nothing of the tenant while the archive is down, and the next run finishes', async () => {
      await expect(runMaintenance(shorter({ archive: new DownArchive(archive) }), NOW)).rejects.toThrow(MaintenanceIncompleteError);

      expect(await aprilRows()).toEqual([{ tenant_id: TENANT_A, count: 1 }, { tenant_id: TENANT_B, count: 1 }]);
      await runMaintenance(shorter(), NOW);
      await expectTenantAprilArchivedOnce();
    });

    it('deletes nothing of the tenant when its archive reads back different', async () => {
      await expect(runMaintenance(shorter({ archive: new CorruptingArchive(archive) }), NOW)).rejects.toThrow(MaintenanceIncompleteError);

      expect(await aprilRows()).toEqual([{ tenant_id: TENANT_A, count: 1 }, { tenant_id: TENANT_B, count: 1 }]);
      const [run] = await db.query<{ state: string }>(`SELECT state FROM tenant_retention_runs WHERE tenant_id = $1`, [TENANT_A]);
      expect(run?.state).toBe('exporting');
    });
  });
});
