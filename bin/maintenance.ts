import { join } from 'node:path';
import { DataDirInUseError, lockDataDir } from '../lambdas/shared/adapters/local/data-dir-lock.js';
import { applyMigrations, readMigrations } from '../lambdas/shared/adapters/pg/migrations.js';
import { openDatabase } from '../lambdas/shared/adapters/pg/sql-database.js';
import { ConfigError, loadLocalConfig } from '../lambdas/shared/config.js';
import { MaintenanceIncompleteError, runMaintenance } from '../lambdas/shared/use-cases/run-maintenance.js';
import { localMaintenanceDeps } from './local-runtime/maintenance.js';
import { MIGRATIONS_DIR } from './local-runtime/runtime.js';

/**
 * `npm run maintenance`: the retention job once, on the server's database and ARCHIVE_DIR. On
 * PGlite the server must be stopped (it holds DATA_DIR); on Postgres the job's lock keeps it
 * from running beside the server's own timer.
 */
async function main(): Promise<void> {
  const config = loadLocalConfig();
  const embedded = !config.database.databaseUrl;
  const lock = embedded ? await lockDataDir(config.dataDir) : undefined;
  const db = await openDatabase({ databaseUrl: config.database.databaseUrl, poolSize: 2, pgliteDataDir: embedded ? join(config.dataDir, 'pgdata') : undefined });
  try {
    await applyMigrations(db, await readMigrations(MIGRATIONS_DIR));
    const summary = await runMaintenance(localMaintenanceDeps(db, config), new Date());
    if (summary.skipped) console.log('Another maintenance run holds the lock: nothing done.');
    for (const month of summary.archived) console.log(`Archived ${month.month.slice(0, 7)}: ${month.rows} events of ${month.tenants} tenant(s), run ${month.generation}, in ${config.archive.dir}`);
    console.log(`Partitions created: ${summary.createdPartitions.length}; rollups pruned: ${summary.prunedRollups}; dedupe rows pruned: ${summary.prunedDedupe}; set members pruned: ${summary.prunedSetMembers}.`);
  } finally {
    await db.close();
    await lock?.release();
  }
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof DataDirInUseError || error instanceof MaintenanceIncompleteError;
  console.error(known ? error.message : error);
  process.exit(1);
});
