// The retention job once, in a process of its own, as `npm run maintenance` runs it (same
// settings, database and archive wiring), for bench/retention.ts: it reports to its parent
// over IPC when each step was reached and the process's peak resident set size.
import { loadLocalConfig } from '../../lambdas/shared/config.js';
import { runMaintenance, type MaintenanceStep, type MaintenanceSummary } from '../../lambdas/shared/use-cases/run-maintenance.js';
import { withLocalDatabase } from '../../bin/local-runtime/local-database.js';
import { localMaintenanceDeps } from '../../bin/local-runtime/maintenance.js';

export interface RetentionJobReport {
  /** When runMaintenance was called (epoch ms). */
  startedAt: number;
  /** ms from then to each step's end. */
  steps: Partial<Record<MaintenanceStep, number>>;
  /** Peak RSS (kB) at each step's end: where the peak was reached. */
  stepMaxRssKb: Partial<Record<MaintenanceStep, number>>;
  totalMs: number;
  summary: MaintenanceSummary;
  /** Peak RSS of the process (kB) before the job ran (modules loaded, pool open), and at its end. */
  maxRssBeforeKb: number;
  maxRssKb: number;
}

const config = loadLocalConfig();
const report = await withLocalDatabase(config, 2, async (db): Promise<RetentionJobReport> => {
  // One connection made before the peak is read, so the pool's first socket is in the baseline.
  await db.query('SELECT 1');
  const maxRssBeforeKb = process.resourceUsage().maxRSS;
  const steps: RetentionJobReport['steps'] = {};
  const stepMaxRssKb: RetentionJobReport['stepMaxRssKb'] = {};
  const startedAt = Date.now();
  const started = performance.now();
  const summary = await runMaintenance(
    {
      ...localMaintenanceDeps(db, config),
      afterStep: (step) => {
        steps[step] = performance.now() - started;
        stepMaxRssKb[step] = process.resourceUsage().maxRSS;
      },
    },
    new Date(),
  );
  return { startedAt, steps, stepMaxRssKb, totalMs: performance.now() - started, summary, maxRssBeforeKb, maxRssKb: process.resourceUsage().maxRSS };
});
process.send?.(report);
