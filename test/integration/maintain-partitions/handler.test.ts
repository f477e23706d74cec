import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaintainPartitionsHandler } from '../../../lambdas/maintain-partitions/handler.js';
import { createMigrateDatabaseHandler } from '../../../lambdas/migrate-database/handler.js';
import { PgPartitionMaintenance } from '../../../lambdas/shared/adapters/pg/event-partitions.js';
import { MIGRATIONS_DIR } from '../../../bin/local-runtime/runtime.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await testDb.drop();
});

describe('maintain-partitions handler', () => {
  it('creates the partitions of this month and the next three, and is idempotent', async () => {
    const handler = createMaintainPartitionsHandler(new PgPartitionMaintenance(testDb.db), () => new Date('2031-12-15T00:00:00Z'));

    await handler();
    await handler();

    const rows = await testDb.db.query<{ relname: string }>(`SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'analytics_events_203%' ORDER BY relname`);
    expect(rows.map((row) => row.relname)).toEqual(['analytics_events_2031_12', 'analytics_events_2032_01', 'analytics_events_2032_02', 'analytics_events_2032_03']);
  });
});

describe('migrate-database handler', () => {
  it('applies nothing on a database that is already migrated', async () => {
    const handler = createMigrateDatabaseHandler(async () => testDb.db, MIGRATIONS_DIR);
    await expect(handler()).resolves.toEqual({ applied: [] });
  });
});
