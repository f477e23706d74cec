import { monthsAhead } from '../domain/months.js';
import type { PartitionMaintenance } from '../ports/partition-maintenance.js';

/**
 * Scheduled daily: the partitions of this month and the next `ahead` months exist before any
 * event needs them, so the writer's own creation of a missing partition stays the exception.
 */
export async function createPartitionsAhead(maintenance: PartitionMaintenance, now: Date, ahead = 3): Promise<string[]> {
  const months = monthsAhead(now, ahead);
  await maintenance.ensureMonths(months);
  return months;
}
