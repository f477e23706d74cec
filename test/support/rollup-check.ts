import type { SqlSession } from '../../lambdas/shared/adapters/pg/sql-database.js';

/**
 * Rollup rows (per type, category and action, and the totals per type) that disagree with the events they count (either side missing counts as a
 * mismatch). Read as the table owner, so it sees every tenant.
 */
export async function rollupMismatches(db: SqlSession): Promise<unknown[]> {
  return db.query(`
    WITH truth AS (
      SELECT e.tenant_id, g.prefix || g.granularity AS granularity, date_trunc(g.granularity, e.timestamp, 'UTC') AS period_start,
        e.event_type, CASE g.prefix WHEN '' THEN e.category ELSE '' END AS category, CASE g.prefix WHEN '' THEN e.action ELSE '' END AS action,
        count(*) AS count, count(e.value) AS value_count,
        coalesce(sum(e.value), 0) AS total_value, min(e.value) AS min_value, max(e.value) AS max_value
      FROM analytics_events e
      CROSS JOIN (VALUES ('minute', ''), ('hour', ''), ('day', ''), ('hour', 'type_'), ('day', 'type_')) AS g(granularity, prefix)
      GROUP BY 1, 2, 3, 4, 5, 6
    )
    SELECT t.*, r.count AS rollup_count
    FROM truth t FULL JOIN event_rollups r USING (tenant_id, granularity, period_start, event_type, category, action)
    WHERE t.count IS DISTINCT FROM r.count OR t.value_count IS DISTINCT FROM r.value_count
      OR t.total_value IS DISTINCT FROM r.total_value OR t.min_value IS DISTINCT FROM r.min_value
      OR t.max_value IS DISTINCT FROM r.max_value`);
}
