-- The rollups of a month are partitioned as its events are, by the month their period begins in
-- (minute, hour and day bins are UTC ones, so each lies in one month): the retention job detaches
-- and drops a month's rollups with its events' partition, where it deleted them row by row, a
-- million and more rows for a month of a million events, beside the writers (docs/benchmarks.md,
-- Retention). Reads of a time range also plan over that range's months only.
ALTER TABLE event_rollups RENAME TO event_rollups_unpartitioned;
ALTER INDEX event_rollups_pkey RENAME TO event_rollups_unpartitioned_pkey;
-- Its owner copies every tenant's rows below: no policy may hide them.
ALTER TABLE event_rollups_unpartitioned NO FORCE ROW LEVEL SECURITY;

CREATE TABLE event_rollups (
  LIKE event_rollups_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
  PRIMARY KEY (tenant_id, granularity, period_start, event_type, category, action)
) PARTITION BY RANGE (period_start);

-- A month's events and rollups are created together, so that the writer's one check (does the
-- events' partition exist?) covers both. Fillfactor 70 as before (0002): the current hour and day
-- rows are updated by every delivery, and free space on the page keeps those updates HOT.
CREATE OR REPLACE FUNCTION ensure_event_partition(month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  first_day date := date_trunc('month', month)::date;
  parent text;
BEGIN
  FOREACH parent IN ARRAY ARRAY['analytics_events', 'event_rollups'] LOOP
    CONTINUE WHEN to_regclass(format('%s_%s', parent, to_char(first_day, 'YYYY_MM'))) IS NOT NULL;
    BEGIN
      EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L) %s',
        format('%s_%s', parent, to_char(first_day, 'YYYY_MM')), parent,
        to_char(first_day, 'YYYY-MM-DD') || ' 00:00:00+00',
        to_char((first_day + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00',
        CASE parent WHEN 'event_rollups' THEN 'WITH (fillfactor = 70)' ELSE '' END);
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      NULL;
    END;
  END LOOP;
END $$;

-- Every month that has events or rollups gets both partitions, then the rows move over.
-- Months as dates in UTC: a timestamptz cast to date would take the session's time zone.
SELECT ensure_event_partition(month) FROM (
  SELECT (date_trunc('month', period_start, 'UTC') AT TIME ZONE 'UTC')::date AS month FROM event_rollups_unpartitioned
  UNION
  SELECT (substr(relname, 18, 4) || '-' || substr(relname, 23, 2) || '-01')::date FROM pg_class
  WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND relname ~ '^analytics_events_[0-9]{4}_[0-9]{2}$'
) AS months;
INSERT INTO event_rollups SELECT * FROM event_rollups_unpartitioned;
DROP TABLE event_rollups_unpartitioned;

-- The rights and policies of 0003, 0010 and 0011, on the new table.
GRANT SELECT, INSERT, UPDATE, DELETE ON event_rollups TO tracker_app;
GRANT SELECT, DELETE ON event_rollups TO tracker_maintenance;
ALTER TABLE event_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_rollups
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY maintenance_prune ON event_rollups FOR ALL TO tracker_maintenance USING (true);
