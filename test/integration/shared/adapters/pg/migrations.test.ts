import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, readMigrations, type Migration } from '../../../../../lambdas/shared/adapters/pg/migrations.js';
import { MIGRATIONS_DIR } from '../../../../../bin/local-runtime/runtime.js';
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
