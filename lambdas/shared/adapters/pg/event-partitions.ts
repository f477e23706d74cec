import type { SqlSession } from './sql-database.js';

const MONTH = /^\d{4}-\d{2}-01$/;

/**
 * The table of a month's partition (`2026-01-01` -> `analytics_events_2026_01`), as the
 * `ensure_event_partition` of migration 0001 (and 0016) names it. Identifiers cannot be `$n` parameters:
 * the month is checked to be a date before it becomes one.
 */
export function partitionTable(month: string): string {
  if (!MONTH.test(month)) throw new Error(`Not a month's first day: ${month}`);
  return `analytics_events_${month.slice(0, 4)}_${month.slice(5, 7)}`;
}

/** The table of a month's rollups (`2026-01-01` -> `event_rollups_2026_01`), created with its events' one (migration 0016). */
export function rollupPartitionTable(month: string): string {
  return partitionTable(month).replace(/^analytics_events_/, 'event_rollups_');
}

/**
 * Creates the monthly partitions (first days, `YYYY-MM-01`) that do not exist yet, and answers
 * those it created. Two creators at once may both count a month: the answer feeds a metric.
 */
export async function ensureEventPartitions(db: SqlSession, months: string[]): Promise<string[]> {
  const rows = await db.query<{ month: string }>(
    `SELECT month, ensure_event_partition(month::date) FROM unnest($1::text[]) AS month
     WHERE to_regclass(format('analytics_events_%s', to_char(month::date, 'YYYY_MM'))) IS NULL`,
    [months],
  );
  return rows.map((row) => row.month);
}
