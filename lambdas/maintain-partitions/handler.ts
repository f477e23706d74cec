import { lazyHandler } from '../shared/lazy-handler.js';
import { log } from '../shared/logger.js';
import type { PartitionMaintenance } from '../shared/ports/partition-maintenance.js';
import { createPartitionsAhead } from '../shared/use-cases/create-partitions-ahead.js';
import { awsPartitionMaintenance } from '../shared/wiring/aws.js';

/** EventBridge schedule: create this month's and the next three months' partitions. */
export function createMaintainPartitionsHandler(maintenance: PartitionMaintenance, now = () => new Date()) {
  return async (): Promise<{ months: string[] }> => {
    const months = await createPartitionsAhead(maintenance, now());
    log('info', 'partitions ensured', { months });
    return { months };
  };
}

export const handler = lazyHandler(async () => createMaintainPartitionsHandler(await awsPartitionMaintenance()));
