import { fileURLToPath } from 'node:url';
import { applyMigrations, readMigrations } from '../shared/adapters/pg/migrations.js';
import type { SqlDatabase } from '../shared/adapters/pg/sql-database.js';
import { log } from '../shared/logger.js';
import { awsDatabase } from '../shared/wiring/aws.js';

/** The bundle carries `migrations/` next to its code (see the CDK construct's command hooks). */
const BUNDLED_MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Run by a CDK trigger on every deploy, before the functions that need the schema are
 * updated. A failure fails the deploy, so the old functions keep serving the old schema.
 */
export function createMigrateDatabaseHandler(database: () => Promise<SqlDatabase>, directory: string) {
  return async (): Promise<{ applied: string[] }> => {
    const applied = await applyMigrations(await database(), await readMigrations(directory));
    log('info', 'migrations applied', { applied });
    return { applied };
  };
}

export const handler = createMigrateDatabaseHandler(awsDatabase, BUNDLED_MIGRATIONS);
