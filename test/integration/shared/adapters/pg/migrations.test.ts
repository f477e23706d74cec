import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, readMigrations, type Migration } from '../../../../../lambdas/shared/adapters/pg/migrations.js';
import { MIGRATIONS_DIR } from '../../../../../bin/local-runtime/runtime.js';
import { openDatabase } from '../../../../../lambdas/shared/adapters/pg/sql-database.js';
import { createTestDatabase, type TestDatabase } from '../../../../support/test-database.js';

let testDb: TestDatabase;
let shipped: Migration[];

beforeAll(async () => {
  testDb = await createTestDatabase();
  shipped = await readMigrations(MIGRATIONS_DIR);
});

afterAll(async () => {
  await testDb.drop();
});

describe('applyMigrations', () => {
  it('applies each file once, in order', async () => {
    expect(shipped.map((migration) => migration.version)).toEqual([...shipped.map((migration) => migration.version)].sort((a, b) => a - b));
    await expect(applyMigrations(testDb.db, shipped)).resolves.toEqual([]);
  });

  it('rolls a failing migration back whole and does not record it, leaving the schema as it was', async () => {
    const failing: Migration = {
      version: 9001,
      name: '9001_break_things.sql',
      sql: 'ALTER TABLE analytics_events ADD COLUMN half_done text; SELECT no_such_function();',
    };

    await expect(applyMigrations(testDb.db, [...shipped, failing])).rejects.toThrow(/no_such_function/);

    const column = await testDb.db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'analytics_events' AND column_name = 'half_done'`);
    const recorded = await testDb.db.query('SELECT 1 FROM schema_migrations WHERE version = 9001');
    expect(column).toEqual([]);
    expect(recorded).toEqual([]);
  });
});

describe('0016: rollups partitioned by month', () => {
  it('moves every rollup row into its month, and gives each month of events or rollups both partitions', async () => {
    const db = await openDatabase({});
    try {
      await applyMigrations(db, shipped.filter((migration) => migration.version < 16));
      await db.query(`SELECT ensure_event_partition('2026-03-01')`);
      await db.query(
        `INSERT INTO event_rollups (tenant_id, granularity, period_start, event_type, category, action, count, value_count, total_value)
         VALUES ('00000000-0000-4000-8000-000000000001', 'minute', '2026-01-31T23:59:00Z', 'CUSTOM', 'c', 'a', 2, 0, 0),
                ('00000000-0000-4000-8000-000000000001', 'day', '2026-02-01T00:00:00Z', 'CUSTOM', 'c', 'a', 3, 1, 4.5),
                ('00000000-0000-4000-8000-000000000002', 'hour', '2026-02-28T23:00:00Z', 'ERROR', 'c', 'a', 1, 0, 0)`,
      );

      await applyMigrations(db, shipped.filter((migration) => migration.version <= 16));

      const rows = await db.query<{ partition: string; granularity: string; count: number; total_value: string }>(
        `SELECT tableoid::regclass::text AS partition, granularity, count::int AS count, total_value::text AS total_value FROM event_rollups ORDER BY period_start`,
      );
      expect(rows).toEqual([
        { partition: 'event_rollups_2026_01', granularity: 'minute', count: 2, total_value: '0' },
        { partition: 'event_rollups_2026_02', granularity: 'day', count: 3, total_value: '4.5' },
        { partition: 'event_rollups_2026_02', granularity: 'hour', count: 1, total_value: '0' },
      ]);
      const tables = await db.query<{ name: string; options: string[] | null }>(
        `SELECT relname AS name, reloptions AS options FROM pg_class WHERE relname ~ '^(analytics_events|event_rollups)_2026_0[1-3]$' ORDER BY relname`,
      );
      expect(tables).toEqual([
        { name: 'analytics_events_2026_01', options: null },
        { name: 'analytics_events_2026_02', options: null },
        { name: 'analytics_events_2026_03', options: null },
        { name: 'event_rollups_2026_01', options: ['fillfactor=70'] },
        { name: 'event_rollups_2026_02', options: ['fillfactor=70'] },
        { name: 'event_rollups_2026_03', options: ['fillfactor=70'] },
      ]);
      const policies = await db.query<{ policyname: string }>(`SELECT policyname FROM pg_policies WHERE tablename = 'event_rollups' ORDER BY 1`);
      expect(policies.map((policy) => policy.policyname)).toEqual(['maintenance_prune', 'tenant_isolation']);
      const [forced] = await db.query<{ forced: boolean }>(`SELECT relforcerowsecurity AS forced FROM pg_class WHERE relname = 'event_rollups'`);
      expect(forced?.forced).toBe(true);
    } finally {
      await db.close();
    }
  });
});

describe('0019: rollup totals per type', () => {
  it('adds the hour and day totals of every type from the rows per category and action, as the writer keeps them', async () => {
    const db = await openDatabase({});
    try {
      await applyMigrations(db, shipped.filter((migration) => migration.version < 19));
      await db.query(`SELECT ensure_event_partition('2026-02-01')`);
      await db.query(
        `INSERT INTO event_rollups (tenant_id, granularity, period_start, event_type, category, action, count, value_count, total_value, min_value, max_value)
         VALUES ('00000000-0000-4000-8000-000000000001', 'minute', '2026-02-01T10:01:00Z', 'PERFORMANCE', 'api', 'view', 2, 2, 3, 1, 2),
                ('00000000-0000-4000-8000-000000000001', 'hour', '2026-02-01T10:00:00Z', 'PERFORMANCE', 'api', 'view', 2, 2, 3, 1, 2),
                ('00000000-0000-4000-8000-000000000001', 'hour', '2026-02-01T10:00:00Z', 'PERFORMANCE', 'jobs', 'run', 1, 1, 7, 7, 7),
                ('00000000-0000-4000-8000-000000000001', 'day', '2026-02-01T00:00:00Z', 'PERFORMANCE', 'api', 'view', 3, 2, 3, 1, 2),
                ('00000000-0000-4000-8000-000000000002', 'hour', '2026-02-01T10:00:00Z', 'PERFORMANCE', 'api', 'view', 5, 0, 0, NULL, NULL)`,
      );

      await applyMigrations(db, shipped);

      const totals = await db.query(
        `SELECT tenant_id::text, granularity, category, action, count::int AS count, value_count::int AS value_count, total_value::float8 AS total, min_value::float8 AS min, max_value::float8 AS max
         FROM event_rollups WHERE granularity LIKE 'type_%' ORDER BY 1, 2`,
      );
      expect(totals).toEqual([
        { tenant_id: '00000000-0000-4000-8000-000000000001', granularity: 'type_day', category: '', action: '', count: 3, value_count: 2, total: 3, min: 1, max: 2 },
        { tenant_id: '00000000-0000-4000-8000-000000000001', granularity: 'type_hour', category: '', action: '', count: 3, value_count: 3, total: 10, min: 1, max: 7 },
        { tenant_id: '00000000-0000-4000-8000-000000000002', granularity: 'type_hour', category: '', action: '', count: 5, value_count: 0, total: 0, min: null, max: null },
      ]);
      const [forced] = await db.query<{ forced: boolean }>(`SELECT relforcerowsecurity AS forced FROM pg_class WHERE relname = 'event_rollups'`);
      expect(forced?.forced).toBe(true);
    } finally {
      await db.close();
    }
  });
});
