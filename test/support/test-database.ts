import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { applyMigrations, readMigrations } from '../../lambdas/shared/adapters/pg/migrations.js';
import { openDatabase, type SqlDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';
import { MIGRATIONS_DIR } from '../../bin/local-runtime/runtime.js';

export interface TestDatabase {
  db: SqlDatabase;
  /** Where it lives: a database URL on the real server, or undefined for PGlite. */
  url: string | undefined;
  drop(): Promise<void>;
}

/** Runs one statement on the server as the URL's user (the superuser in the tests). */
export async function onServer(serverUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A fresh, migrated database of its own on a real server, dropped by `drop()`. */
export async function createServerDatabase(serverUrl: string, prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomUUID().replace(/-/g, '')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), poolSize: 4 });
  await applyMigrations(db, await readMigrations(MIGRATIONS_DIR));
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * A migrated database of its own for one test file: a fresh database on the server named by
 * DATABASE_URL (CI), or in-memory PGlite when it is unset (a laptop without Postgres).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env['DATABASE_URL'];
  if (serverUrl) return createServerDatabase(serverUrl, 'tracker_test');
  const db = await openDatabase({});
  await applyMigrations(db, await readMigrations(MIGRATIONS_DIR));
  return { db, url: undefined, drop: () => db.close() };
}
