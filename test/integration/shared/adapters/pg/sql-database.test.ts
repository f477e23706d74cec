import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerDatabase, type TestDatabase } from '../../../../support/test-database.js';

const serverUrl = process.env['DATABASE_URL'];

// Only a real server can drop a connection under the pool; PGlite has none.
describe.runIf(serverUrl)('the pg pool', () => {
  let testDb: TestDatabase;

  beforeAll(async () => {
    testDb = await createServerDatabase(serverUrl!, 'tracker_pool');
  });

  afterAll(async () => {
    await testDb.drop();
  });

  it('survives the server ending an idle connection, and serves the next query on a new one', async () => {
    const [{ pid }] = (await testDb.db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    // Give the pool time to see the idle connection end (an uncaught 'error' would fail the run).
    await new Promise((resolve) => setTimeout(resolve, 200));

    const [{ next }] = (await testDb.db.query<{ next: number }>('SELECT pg_backend_pid() AS next')) as [{ next: number }];
    expect(next).not.toBe(pid);
  });
});
