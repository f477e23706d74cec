import { S3Client } from '@aws-sdk/client-s3';
import { DirEventArchive } from '../../lambdas/shared/adapters/local/dir-event-archive.js';
import { PgEventSets } from '../../lambdas/shared/adapters/pg/pg-event-sets.js';
import { PgRetentionStore } from '../../lambdas/shared/adapters/pg/pg-retention-store.js';
import { ARCHIVE_S3_CLIENT_CONFIG, S3EventArchive } from '../../lambdas/shared/adapters/s3/s3-event-archive.js';
import type { SqlDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';
import type { LocalConfig } from '../../lambdas/shared/config.js';
import { dutyCyclePacer } from '../../lambdas/shared/duty-cycle.js';
import { describeError, log } from '../../lambdas/shared/logger.js';
import type { EventArchive } from '../../lambdas/shared/ports/event-archive.js';
import { runMaintenance, type MaintenanceDeps, type MaintenanceSummary } from '../../lambdas/shared/use-cases/run-maintenance.js';

/** The folder ARCHIVE_DIR, or the S3 bucket ARCHIVE_BUCKET names (with the shell's AWS credentials). */
export function localArchive({ bucket, dir }: LocalConfig['archive']): EventArchive {
  return bucket ? new S3EventArchive(new S3Client(ARCHIVE_S3_CLIENT_CONFIG), bucket) : new DirEventArchive(dir);
}

/** The retention job's parts locally: the server's database, the local archive, one pacer for both. */
export function localMaintenanceDeps(db: SqlDatabase, config: Pick<LocalConfig, 'retention' | 'maintenance' | 'archive'>): MaintenanceDeps {
  const pace = dutyCyclePacer(config.maintenance.dutyCycle);
  return { store: new PgRetentionStore(db, { pace }), sets: new PgEventSets(db), archive: localArchive(config.archive), settings: config.retention, pace };
}

export interface MaintenanceTimer {
  /** Stops the timer and waits for a run under way. */
  stop(): Promise<void>;
}

/**
 * Runs the job every `intervalMs`, one run at a time; the first run is one interval after the
 * start (`npm run maintenance` runs it at once). A failed run is logged and the next one retries.
 */
export function startMaintenanceTimer(deps: MaintenanceDeps, intervalMs: number, now = () => new Date()): MaintenanceTimer {
  let running: Promise<MaintenanceSummary | undefined> = Promise.resolve(undefined);
  const timer = setInterval(() => {
    running = running.then(() =>
      runMaintenance(deps, now()).catch((error: unknown) => {
        log('error', 'maintenance run failed; the next run retries', describeError(error));
        return undefined;
      }),
    );
  }, intervalMs);
  // The timer alone never keeps the process up: a stop signal ends it like the server.
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
