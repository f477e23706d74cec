import { parseArgs } from 'node:util';
import { DataDirInUseError } from '../lambdas/shared/adapters/local/data-dir-lock.js';
import { PgArchiveRestore } from '../lambdas/shared/adapters/pg/pg-archive-restore.js';
import { ConfigError, loadLocalConfig } from '../lambdas/shared/config.js';
import { ArchiveUnreadableError } from '../lambdas/shared/use-cases/archived-lines.js';
import { ArchiveNotFoundError, ArchiveTamperedError, restoreArchive } from '../lambdas/shared/use-cases/restore-archive.js';
import { withLocalDatabase } from './local-runtime/local-database.js';
import { localArchive } from './local-runtime/maintenance.js';

const USAGE = `npm run archive:restore -- --month 2026-01 [--tenant <uuid>]
Loads the archived month (every tenant, or one) from ARCHIVE_DIR, or ARCHIVE_BUCKET, into the
table archive_2026_01 of the server's database, after checking every file against its manifest.
Same DATA_DIR / DATABASE_URL as the server; on PGlite, stop the server first (it holds DATA_DIR).`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { month: { type: 'string' }, tenant: { type: 'string' } } });
  const { month } = values;
  if (!month || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new UsageError(`--month: a month as YYYY-MM is required\n${USAGE}`);
  if (values.tenant !== undefined && !UUID.test(values.tenant)) throw new UsageError(`--tenant: not a tenant id (a UUID): ${values.tenant}\n${USAGE}`);

  const config = loadLocalConfig();
  await withLocalDatabase(config, 1, async (db) => {
    const summary = await restoreArchive(localArchive(config.archive), new PgArchiveRestore(db), { month, tenantId: values.tenant });
    console.log(`Loaded ${summary.rows} events of ${summary.tenants} tenant(s) (run ${summary.generations.join(', ')}) into ${summary.table}; every file matched its manifest.`);
  });
}

main().catch((error: unknown) => {
  const known = [ConfigError, DataDirInUseError, UsageError, ArchiveTamperedError, ArchiveNotFoundError, ArchiveUnreadableError].some((type) => error instanceof type);
  console.error(known && error instanceof Error ? error.message : error);
  process.exit(error instanceof UsageError ? 2 : 1);
});
