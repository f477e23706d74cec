import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMaintainPartitionsHandler } from '../../../lambdas/maintain-partitions/handler.js';
import { createMigrateDatabaseHandler } from '../../../lambdas/migrate-database/handler.js';
import { DirEventArchive } from '../../../lambdas/shared/adapters/local/dir-event-archive.js';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { PgRetentionStore } from '../../../lambdas/shared/adapters/pg/pg-retention-store.js';
import { MIGRATIONS_DIR } from '../../../bin/local-runtime/runtime.js';
import { envelope, received, TENANT_A, trackedEvent } from '../../support/factories.js';
import { tempDirPerTest } from '../../support/temp-dir.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await testDb.drop();
});

describe('maintain-partitions handler', () => {
  const archiveDir = tempDirPerTest('handler-archive-');

  it('creates the partitions of this month and the next three, archives the expired months, and is idempotent', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    await new PgEventStore(testDb.db).writeMessages([received(envelope([trackedEvent({ timestamp: '2031-06-02T10:00:00.000Z', receivedAt: '2031-06-02T10:00:00.000Z' })], { tenantId: TENANT_A }))]);
    const handler = createMaintainPartitionsHandler(
      { store: new PgRetentionStore(testDb.db), archive: new DirEventArchive(archiveDir()), settings: { eventRetentionDays: 90, rollupRetentionDays: 365 } },
      () => new Date('2031-12-15T00:00:00Z'),
    );

    const first = await handler();
    const second = await handler();

    const rows = await testDb.db.query<{ relname: string }>(`SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'analytics_events_203%' ORDER BY relname`);
    expect(rows.map((row) => row.relname)).toEqual(['analytics_events_2031_12', 'analytics_events_2032_01', 'analytics_events_2032_02', 'analytics_events_2032_03']);
    expect(first.archived).toEqual([{ month: '2031-06-01', generation: 1, tenants: 1, rows: 1 }]);
    expect(second).toMatchObject({ createdPartitions: [], archived: [] });
    vi.restoreAllMocks();
  });
});

describe('migrate-database handler', () => {
  it('applies nothing on a database that is already migrated', async () => {
    const handler = createMigrateDatabaseHandler(async () => testDb.db, MIGRATIONS_DIR);
    await expect(handler()).resolves.toEqual({ applied: [] });
  });
});
