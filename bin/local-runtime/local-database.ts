import { join } from 'node:path';
import { lockDataDir } from '../../lambdas/shared/adapters/local/data-dir-lock.js';
import { openDatabase, type SqlDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';
import type { LocalConfig } from '../../lambdas/shared/config.js';

/**
 * The server's database for a command (`npm run dlq`, `maintenance`, `archive:restore`): PGlite
 * in DATA_DIR, locked against a running server (it holds the folder), or DATABASE_URL's Postgres.
 */
export async function withLocalDatabase<T>(config: Pick<LocalConfig, 'database' | 'dataDir'>, poolSize: number, work: (db: SqlDatabase, embedded: boolean) => Promise<T>): Promise<T> {
  const embedded = !config.database.databaseUrl;
  const lock = embedded ? await lockDataDir(config.dataDir) : undefined;
  try {
    const db = await openDatabase({ databaseUrl: config.database.databaseUrl, poolSize, pgliteDataDir: embedded ? join(config.dataDir, 'pgdata') : undefined });
    try {
      return await work(db, embedded);
    } finally {
      await db.close();
    }
  } finally {
    await lock?.release();
  }
}
