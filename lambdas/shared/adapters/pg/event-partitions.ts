import type { PartitionMaintenance } from '../../ports/partition-maintenance.js';
import type { SqlSession } from './sql-database.js';

/** Creates the monthly partitions (first days, `YYYY-MM-01`) that do not exist yet. */
export async function ensureEventPartitions(db: SqlSession, months: string[]): Promise<void> {
  await db.query('SELECT ensure_event_partition(month::date) FROM unnest($1::text[]) AS month', [months]);
}

export class PgPartitionMaintenance implements PartitionMaintenance {
  constructor(private readonly db: SqlSession) {}

  ensureMonths(months: string[]): Promise<void> {
    return ensureEventPartitions(this.db, months);
  }
}
