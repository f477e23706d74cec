-- Hour and day totals per type, beside the rows per category and action: granularity
-- 'type_hour' and 'type_day', category and action ''. The event sets are checked against their
-- counts, and the aggregates the sets answer (by type or by nothing) read their totals from them:
-- 30 days of a busy tenant are 210 rows where the rows per category and action were 10,000 and
-- more, read twice (docs/benchmarks.md, Queries). The writer, a purge's correction and the
-- retention job handle them as any rollup row (`rollupRowsSql`).
ALTER TABLE event_rollups DROP CONSTRAINT event_rollups_granularity_check;
ALTER TABLE event_rollups ADD CONSTRAINT event_rollups_granularity_check
  CHECK (granularity IN ('minute', 'hour', 'day', 'type_hour', 'type_day'));

-- Its owner adds every tenant's totals below: no policy may hide the rows they sum.
ALTER TABLE event_rollups NO FORCE ROW LEVEL SECURITY;
INSERT INTO event_rollups (tenant_id, granularity, period_start, event_type, category, action, count, value_count, total_value, min_value, max_value)
SELECT tenant_id, 'type_' || granularity, period_start, event_type, '', '', sum(count), sum(value_count), sum(total_value), min(min_value), max(max_value)
FROM event_rollups WHERE granularity IN ('hour', 'day')
GROUP BY tenant_id, granularity, period_start, event_type;
ALTER TABLE event_rollups FORCE ROW LEVEL SECURITY;
