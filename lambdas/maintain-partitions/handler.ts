import { lazyHandler } from '../shared/lazy-handler.js';
import { runMaintenance, type MaintenanceDeps, type MaintenanceSummary } from '../shared/use-cases/run-maintenance.js';
import { awsMaintenanceDeps } from '../shared/wiring/aws.js';

/**
 * EventBridge schedule: the whole maintenance job (partitions ahead, archive, verify, detach and
 * drop the expired ones, prune). A month left in place fails the invocation, which the alarm on
 * the function's errors sees; the next run resumes it.
 */
export function createMaintainPartitionsHandler(deps: MaintenanceDeps, now = () => new Date()) {
  return (): Promise<MaintenanceSummary> => runMaintenance(deps, now());
}

export const handler = lazyHandler(async () => createMaintainPartitionsHandler(await awsMaintenanceDeps()));
