import { isDeepStrictEqual } from 'node:util';
import { ARCHIVE_SCHEMA_VERSION, monthKey, tenantKey, type ArchiveManifest, type ArchivedTenant } from '../domain/archive-manifest.js';
import { planMaintenance, retainedRange, type RetentionSettings, type TenantPurge } from '../domain/retention-plan.js';
import type { StoredEvent } from '../domain/answer-schemas.js';
import { UNPACED, type Pacer } from '../duty-cycle.js';
import { describeError, log } from '../logger.js';
import { emitCounts, METRIC } from '../metrics.js';
import type { EventArchive } from '../ports/event-archive.js';
import type { EventSetKeeper } from '../ports/event-set-keeper.js';
import type { RetentionRun, RetentionStore, TenantRows } from '../ports/retention-store.js';
import { putEventLines, putManifest, readEventLines, readManifest } from './archived-lines.js';

/** Where a run can be cut off: right after the step of that name is recorded. */
export type MaintenanceStep = 'partitions' | 'exported' | 'uploaded' | 'verified' | 'detached' | 'dropped' | 'tenant-uploaded' | 'tenant-verified' | 'tenant-deleted' | 'pruned';

export interface MaintenanceDeps {
  store: RetentionStore;
  archive: EventArchive;
  settings: RetentionSettings;
  /** Rests while the archive is read back, as the store does between its pages and batches; flat out when absent. */
  pace?: Pacer;
  /** Keeps every tenant's event sets of the retention window; none kept when absent. */
  sets?: EventSetKeeper;
  /** How long the run may spend keeping sets (default 2 minutes): what is left waits for the next run. */
  setKeepingBudgetMs?: number;
  /** Tests cut a run off here: a throw is a crash right after `step`. */
  afterStep?: (step: MaintenanceStep, month?: string) => Promise<void> | void;
}

export interface MaintenanceSummary {
  /** Another run held the lock: this one did nothing. */
  skipped: boolean;
  createdPartitions: string[];
  archived: Array<{ month: string; generation: number; tenants: number; rows: number }>;
  /** Rows of tenants with a shorter retention, archived and deleted from a month that stays. */
  tenantPurged: Array<{ tenantId: string; month: string; generation: number; rows: number }>;
  /** Months (or a tenant's rows of one) left in place for the next run, and why. */
  failed: Array<{ month: string; tenantId?: string; error: string }>;
  prunedRollups: number;
  prunedDedupe: number;
  prunedSetMembers: number;
  /** Stale or missing event sets rebuilt, and whether every tenant's were (the budget may run out). */
  keptSets: { periods: number; finished: boolean };
}

/** Some months could not be archived: they stay in place and the next run resumes them. */
export class MaintenanceIncompleteError extends Error {
  override readonly name = 'MaintenanceIncompleteError';
  constructor(readonly summary: MaintenanceSummary) {
    super(`Maintenance left ${summary.failed.length} month(s) in place: ${summary.failed.map((failure) => `${monthKey(failure.month)}${failure.tenantId ? ` of tenant ${failure.tenantId}` : ''} (${failure.error})`).join('; ')}`);
  }
}

/** The archive read back is not what was written: nothing is dropped on it. */
export class ArchiveVerifyError extends Error {
  override readonly name = 'ArchiveVerifyError';
}

/** Lines of an archive read back between two rests of the pacer: an export page's worth. */
const VERIFY_SLICE = 1000;

/** Rows keep arriving in a month being archived (late deliveries): give up for this run after this many exports. */
const MAX_EXPORTS_PER_RUN = 3;

/** Every row an archive holds, all its tenants together. */
const archivedRows = ({ manifest }: { manifest: ArchiveManifest }): number => manifest.tenants.reduce((sum, tenant) => sum + tenant.rows, 0);

const sameRows = (manifest: ArchiveManifest, rows: TenantRows): boolean =>
  manifest.tenants.length === rows.size && manifest.tenants.every((tenant) => rows.get(tenant.tenantId) === tenant.rows);

type ArchiveRun = Pick<RetentionRun, 'month' | 'generation' | 'archivePrefix'>;

/** How an export resumes: the tenants an earlier run uploaded, and where each new one is recorded. */
interface ExportProgress {
  exported: readonly ArchivedTenant[];
  record(tenant: ArchivedTenant): Promise<unknown>;
}

const NO_PROGRESS: ExportProgress = { exported: [], record: () => Promise.resolve() };

/**
 * Each tenant's events as gzip JSON lines under the run's prefix, then the manifest that
 * describes them. A tenant an earlier run uploaded is taken as it was: the rows of every
 * tenant are compared with the table before the verify, which exports again on a difference.
 */
async function exportTenants(archive: EventArchive, run: ArchiveRun, tenantIds: Iterable<string>, events: (tenantId: string) => AsyncIterable<StoredEvent>, progress = NO_PROGRESS): Promise<ArchiveManifest> {
  const earlier = new Map(progress.exported.map((tenant) => [tenant.tenantId, tenant]));
  const tenants: ArchivedTenant[] = [];
  for (const tenantId of tenantIds) {
    const uploaded = earlier.get(tenantId);
    if (uploaded) {
      tenants.push(uploaded);
      continue;
    }
    const key = tenantKey(run.archivePrefix, tenantId);
    const tenant: ArchivedTenant = { tenantId, key, ...(await putEventLines(archive, key, events(tenantId))) };
    await progress.record(tenant);
    tenants.push(tenant);
  }
  const manifest: ArchiveManifest = { schemaVersion: ARCHIVE_SCHEMA_VERSION, month: monthKey(run.month), generation: run.generation, createdAt: new Date().toISOString(), tenants };
  await putManifest(archive, run.archivePrefix, manifest);
  return manifest;
}

/** Reads every object back: the manifest as recorded, each tenant's rows and checksum as in it. */
async function verifyArchive(archive: EventArchive, run: ArchiveRun & { manifest: ArchiveManifest }, pace: Pacer): Promise<void> {
  const stored = await readManifest(archive, run.archivePrefix);
  if (!isDeepStrictEqual(stored, run.manifest)) throw new ArchiveVerifyError(`${run.archivePrefix}: the manifest differs from the one recorded`);
  for (const tenant of run.manifest.tenants) {
    let lines = 0;
    const read = await readEventLines(archive, tenant.key, () => (++lines % VERIFY_SLICE === 0 ? pace.pause() : undefined));
    if (read.rows !== tenant.rows || read.sha256 !== tenant.sha256) {
      throw new ArchiveVerifyError(`${tenant.key}: ${read.rows} rows, sha256 ${read.sha256}; the partition had ${tenant.rows} rows, sha256 ${tenant.sha256}`);
    }
  }
}

/** Verifies, or counts the failure, logs it and sends the run back to exporting before rethrowing. */
async function verifyOrRestart<Run extends ArchiveRun & { manifest: ArchiveManifest }>(deps: MaintenanceDeps, run: Run, restart: () => Promise<unknown>, scope: Record<string, unknown>): Promise<void> {
  try {
    await verifyArchive(deps.archive, run, deps.pace ?? UNPACED);
  } catch (error) {
    emitCounts({ [METRIC.archiveVerifyFailed]: 1 });
    log('error', 'archive verify failed: nothing dropped, the next run exports again', { ...scope, month: monthKey(run.month), generation: run.generation, ...describeError(error) });
    await restart();
    throw error;
  }
}

const withManifest = <Run extends { state: string; month: string; manifest: ArchiveManifest | undefined }>(run: Run): Run & { manifest: ArchiveManifest } => {
  if (!run.manifest) throw new Error(`The ${run.state} run of ${monthKey(run.month)} has no manifest`);
  return { ...run, manifest: run.manifest };
};

/**
 * Takes one expired month from wherever its last run stopped to dropped: export, upload,
 * verify against the table, detach, check the detached table once more, drop. The state is
 * recorded after every step and every tenant's upload, so a crash (or a Lambda timeout on a
 * month larger than one run exports) repeats at most the tenant or step under way, which
 * overwrites the same keys.
 */
async function archiveMonth(deps: MaintenanceDeps, month: string): Promise<MaintenanceSummary['archived'][number]> {
  const { store } = deps;
  let run = await store.openRun(month);
  let exports = 0;
  while (run.state !== 'dropped') {
    if (run.state === 'exporting') {
      if (++exports > MAX_EXPORTS_PER_RUN) throw new Error(`rows kept arriving while it was exported ${MAX_EXPORTS_PER_RUN} times`);
      const tenantIds = (await store.tenantRows(month)).keys();
      const exporting = run;
      const progress: ExportProgress = {
        exported: run.exported,
        record: async (tenant) => {
          await store.recordExported(exporting, tenant);
          await deps.afterStep?.('exported', month);
        },
      };
      run = await store.advance(run, 'uploaded', await exportTenants(deps.archive, run, tenantIds, (tenantId) => store.tenantEvents(month, tenantId), progress));
      await deps.afterStep?.('uploaded', month);
    } else if (run.state === 'uploaded') {
      const archived = withManifest(run);
      // Rows written since the export (a late delivery) are not in the archive: export again.
      if (!sameRows(archived.manifest, await store.tenantRows(month))) {
        run = await store.restartExport(run);
        continue;
      }
      const verifying = run;
      await verifyOrRestart(deps, archived, () => store.restartExport(verifying), {});
      run = await store.advance(run, 'verified');
      await deps.afterStep?.('verified', month);
    } else if (run.state === 'verified') {
      await store.detach(month);
      run = await store.advance(run, 'detached');
      await deps.afterStep?.('detached', month);
    } else {
      // Detached, so nothing can be written any more: the last chance to see a late row.
      if (!sameRows(withManifest(run).manifest, await store.tenantRows(month))) {
        run = await store.restartExport(run);
        continue;
      }
      await store.dropArchived(withManifest(run));
      run = { ...run, state: 'dropped' };
      await deps.afterStep?.('dropped', month);
    }
  }
  const archived = withManifest(run);
  return { month, generation: run.generation, tenants: archived.manifest.tenants.length, rows: archivedRows(archived) };
}


/**
 * Takes one tenant's rows of a month that stays, past that tenant's shorter retention, from
 * wherever its last run stopped to deleted: export the rows stored before the run began, verify
 * the archive against the table, then delete exactly those rows in batches. Answers `undefined`
 * when the tenant has no rows in the month.
 */
async function purgeTenantMonth(deps: MaintenanceDeps, { tenantId, month }: TenantPurge): Promise<MaintenanceSummary['tenantPurged'][number] | undefined> {
  const { store } = deps;
  let run = await store.openTenantRun(month, tenantId);
  if (!run) return undefined;
  let exports = 0;
  while (run.state !== 'deleted' && run.state !== 'superseded') {
    if (run.state === 'exporting') {
      if (++exports > MAX_EXPORTS_PER_RUN) throw new Error(`rows kept arriving while it was exported ${MAX_EXPORTS_PER_RUN} times`);
      const storedBefore = run.storedBefore;
      run = await store.advanceTenantRun(run, 'uploaded', await exportTenants(deps.archive, run, [tenantId], () => store.tenantEvents(month, tenantId, storedBefore)));
      await deps.afterStep?.('tenant-uploaded', month);
    } else if (run.state === 'uploaded') {
      const archived = withManifest(run);
      // A row stored before the export began but committed after it read that page: export again.
      if ((await store.tenantRowsStoredBefore(month, tenantId, run.storedBefore)) !== archivedRows(archived)) {
        run = await store.restartTenantExport(run);
        continue;
      }
      const verifying = run;
      await verifyOrRestart(deps, archived, () => store.restartTenantExport(verifying), { tenantId });
      run = await store.advanceTenantRun(run, 'verified');
      await deps.afterStep?.('tenant-verified', month);
    } else {
      const archived = withManifest(run);
      // Fewer left than archived is an admin purge meanwhile; more is a row the archive lacks.
      if ((await store.tenantRowsStoredBefore(month, tenantId, run.storedBefore)) + run.deletedRows > archivedRows(archived)) {
        if (run.deletedRows > 0) throw new Error(`rows the archive lacks appeared after ${run.deletedRows} archived rows were deleted`);
        run = await store.restartTenantExport(run);
        continue;
      }
      await store.deleteArchivedTenantRows(archived);
      run = { ...run, state: 'deleted' };
      await deps.afterStep?.('tenant-deleted', month);
    }
  }
  return { tenantId, month, generation: run.generation, rows: archivedRows(withManifest(run)) };
}

const SET_KEEPING_BUDGET_MS = 120_000;

/**
 * The stale and missing event sets of every tenant's retained events, which the writer keeps
 * only for the periods it writes: sets of a kind a migration added (0020's, per day and key)
 * for the days before it, and those of a writer stopped with its keeping pending. Reads answer
 * such periods from the events meanwhile, slower but exact. Tenant by tenant, resting between
 * them; a failure is logged and leaves that tenant's for the next run.
 */
async function keepEventSets(deps: MaintenanceDeps, now: Date): Promise<MaintenanceSummary['keptSets']> {
  if (!deps.sets) return { periods: 0, finished: true };
  const deadline = Date.now() + (deps.setKeepingBudgetMs ?? SET_KEEPING_BUDGET_MS);
  let periods = 0;
  const tenants = await deps.store.tenantsWithRollups();
  // From a random tenant on: where the budget ends before the last, the next runs start elsewhere.
  const first = Math.floor(Math.random() * tenants.length);
  for (const tenantId of [...tenants.slice(first), ...tenants.slice(0, first)]) {
    if (Date.now() >= deadline) return { periods, finished: false };
    try {
      const kept = await deps.sets.keepUntil(tenantId, retainedRange(deps.settings, tenantId, now), deadline);
      periods += kept.rebuilt;
      if (!kept.finished) return { periods, finished: false };
    } catch (error) {
      log('error', 'event sets not kept by maintenance', { tenantId, ...describeError(error) });
    }
    await deps.pace?.pause();
  }
  return { periods, finished: true };
}

/**
 * The scheduled maintenance, hourly locally and daily in AWS:
 * 1. Take the job's lock; another run under way means there is nothing to do.
 * 2. Keep this month's partition and those ahead; new ones are analyzed.
 * 3. Archive, verify, detach and drop every partition wholly past the retention; a month that
 *    fails stays in place for the next run, and the others go on.
 * 4. Archive and delete the rows of tenants with a shorter retention, month by month, from the
 *    months that stay; a failure leaves that tenant's month for the next run.
 * 5. Prune rollups past their retention, dedupe rows past their window, unused set members.
 * 6. Keep the event sets of the retention window, within a budget (`keepEventSets`).
 * 7. Log a summary; throw when a month was left in place, so the schedule's alarm sees it.
 */
export async function runMaintenance(deps: MaintenanceDeps, now: Date): Promise<MaintenanceSummary> {
  const { store } = deps;
  const outcome = await store.exclusively(async () => {
    const partitionMonths = await store.partitionMonths();
    const plan = planMaintenance(now, partitionMonths, deps.settings);
    const createdPartitions = await store.ensurePartitions(plan.ensureMonths);
    await deps.afterStep?.('partitions');

    const archived: MaintenanceSummary['archived'] = [];
    const failed: MaintenanceSummary['failed'] = [];
    for (const month of plan.expiredMonths) {
      try {
        archived.push(await archiveMonth(deps, month));
      } catch (error) {
        failed.push({ month, error: error instanceof Error ? error.message : String(error) });
        log('error', 'partition left in place', { month: monthKey(month), ...describeError(error) });
      }
    }

    const tenantPurged: MaintenanceSummary['tenantPurged'] = [];
    for (const purge of plan.tenantPurges) {
      try {
        const purged = await purgeTenantMonth(deps, purge);
        if (purged) tenantPurged.push(purged);
      } catch (error) {
        failed.push({ ...purge, error: error instanceof Error ? error.message : String(error) });
        log('error', "tenant's rows left in place", { tenantId: purge.tenantId, month: monthKey(purge.month), ...describeError(error) });
      }
    }

    const prunedRollups = await store.pruneRollups(plan.rollupCutoff);
    const prunedDedupe = await store.pruneDedupe(plan.dedupeCutoff);
    const prunedSetMembers = await store.pruneSetMembers();
    await deps.afterStep?.('pruned');
    const keptSets = await keepEventSets(deps, now);
    return { skipped: false, createdPartitions, archived, tenantPurged, failed, prunedRollups, prunedDedupe, prunedSetMembers, keptSets };
  });
  if (!outcome.ran) {
    log('info', 'maintenance skipped: another run holds the lock');
    return { skipped: true, createdPartitions: [], archived: [], tenantPurged: [], failed: [], prunedRollups: 0, prunedDedupe: 0, prunedSetMembers: 0, keptSets: { periods: 0, finished: true } };
  }
  const summary = outcome.result;
  emitCounts({ [METRIC.eventsArchived]: [...summary.archived, ...summary.tenantPurged].reduce((sum, month) => sum + month.rows, 0) });
  log(summary.failed.length > 0 ? 'error' : 'info', 'maintenance finished', {
    ...summary,
    archived: summary.archived.map((month) => ({ ...month, month: monthKey(month.month) })),
    tenantPurged: summary.tenantPurged.map((purge) => ({ ...purge, month: monthKey(purge.month) })),
  });
  if (summary.failed.length > 0) throw new MaintenanceIncompleteError(summary);
  return summary;
}
