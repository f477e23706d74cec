import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerDatabase, type TestDatabase } from '../../../../support/test-database.js';

const serverUrl = process.env['DATABASE_URL'];

async function terminateBackend(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

/** Polls until the server no longer lists the backend, so the client has had its chance to see the end. */
async function waitUntilGone(db: pg.Client, pid: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { rows } = await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    if (rows.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`backend ${pid} still listed`);
}

// Only a real server can drop a connection under the pool; PGlite has none. A missing 'error'
// listener shows as an unhandled error, which fails the run (scripts/run-tests.mjs).
describe.runIf(serverUrl)('the pg pool', () => {
  let testDb: TestDatabase;
  let observer: pg.Client;

  beforeAll(async () => {
    testDb = await createServerDatabase(serverUrl!, 'tracker_pool');
    observer = new pg.Client({ connectionString: serverUrl });
    await observer.connect();
  });

  afterAll(async () => {
    await observer.end();
    await testDb.drop();
  });

  it('survives the server ending an idle connection, and serves the next query', async () => {
    const [{ pid }] = (await testDb.db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];

    await terminateBackend(pid);
    await waitUntilGone(observer, pid);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(await testDb.db.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('survives the server ending a connection inside a transaction: that transaction fails, the next works', async () => {
    const attempt = testDb.db.transaction(async (session) => {
      const [{ pid }] = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
      await terminateBackend(pid);
      await waitUntilGone(observer, pid);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await session.query('SELECT 1');
    });

    await expect(attempt).rejects.toThrow();
    expect(await testDb.db.transaction((session) => session.query('SELECT 1 AS ok'))).toEqual([{ ok: 1 }]);
  });
});
