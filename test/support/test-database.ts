import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { applyMigrations, readMigrations } from '../../lambdas/shared/adapters/pg/migrations.js';
import { openDatabase, type SqlDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';
import { MIGRATIONS_DIR } from '../../lambdas/shared/wiring/local.js';

export interface TestDatabase {
  db: SqlDatabase;
  /** Where it lives: a database URL on the real server, or 'pglite'. */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A migrated database of its own for one test file: a fresh database on the server named by
 * DATABASE_URL (CI), or in-memory PGlite when it is unset (a laptop without Postgres).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env['DATABASE_URL'];
  if (!serverUrl) {
    const db = await openDatabase({});
    await applyMigrations(db, await readMigrations(MIGRATIONS_DIR));
    return { db, url: undefined, drop: () => db.close() };
  }
  const name = `tracker_test_${randomUUID().replace(/-/g, '')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), poolSize: 4 });
  await applyMigrations(db, await readMigrations(MIGRATIONS_DIR));
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
