import { DataDirInUseError } from '../lambdas/shared/adapters/local/data-dir-lock.js';
import { applyMigrations, readMigrations } from '../lambdas/shared/adapters/pg/migrations.js';
import { ConfigError, loadLocalConfig } from '../lambdas/shared/config.js';
import { MaintenanceIncompleteError, runMaintenance } from '../lambdas/shared/use-cases/run-maintenance.js';
import { withLocalDatabase } from './local-runtime/local-database.js';
import { localMaintenanceDeps } from './local-runtime/maintenance.js';
import { MIGRATIONS_DIR } from './local-runtime/runtime.js';

/**
 * `npm run maintenance`: the retention job once, on the server's database and ARCHIVE_DIR. On
 * PGlite the server must be stopped (it holds DATA_DIR); on Postgres the job's lock keeps it
 * from running beside the server's own timer.
 */
async function main(): Promise<void> {
  const config = loadLocalConfig();
  await withLocalDatabase(config, 2, async (db) => {
    await applyMigrations(db, await readMigrations(MIGRATIONS_DIR));
    const summary = await runMaintenance(localMaintenanceDeps(db, config), new Date());
    if (summary.skipped) console.log('Another maintenance run holds the lock: nothing done.');
    for (const month of summary.archived) console.log(`Archived ${month.month.slice(0, 7)}: ${month.rows} events of ${month.tenants} tenant(s), run ${month.generation}, in ${config.archive.bucket ?? config.archive.dir}`);
    console.log(`Partitions created: ${summary.createdPartitions.length}; rollups pruned: ${summary.prunedRollups}; dedupe rows pruned: ${summary.prunedDedupe}; set members pruned: ${summary.prunedSetMembers}; event-set periods rebuilt: ${summary.keptSets.periods}${summary.keptSets.finished ? '' : ' (the rest waits for the next run)'}.`);
  });
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof DataDirInUseError || error instanceof MaintenanceIncompleteError;
  console.error(known ? error.message : error);
  process.exit(1);
});
