-- Planner statistics that follow the writes where no autovacuum does it: PGlite has none, and a
-- server may run with it off (this machine's does). A partition never analyzed, or analyzed
-- when it was a tenth smaller, has the planner guess: without user_id statistics a filter by
-- user walked the index of every month (docs/benchmarks.md, Queries, fresh data). The writer
-- calls this after a commit, now and then; with autovacuum on it finds little to do. Growth is
-- judged by pages against those the last ANALYZE saw (relpages), which needs no statistics
-- collector: autovacuum's own threshold, a tenth, plus 8 pages so that tiny tables are left.
CREATE FUNCTION analyze_grown_partitions() RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  partition regclass;
BEGIN
  -- One caller at a time; the others go on writing.
  IF NOT pg_try_advisory_xact_lock(hashtextextended('analyze_grown_partitions', 0)) THEN
    RETURN;
  END IF;
  FOR partition IN
    SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent IN ('analytics_events'::regclass, 'event_rollups'::regclass) AND NOT i.inhdetachpending
      AND pg_relation_size(c.oid) / current_setting('block_size')::int > c.relpages * 1.1 + 8
    ORDER BY c.relname
  LOOP
    EXECUTE format('ANALYZE %s', partition);
    RETURN NEXT partition::text;
  END LOOP;
END $$;
REVOKE ALL ON FUNCTION analyze_grown_partitions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analyze_grown_partitions() TO tracker_app;
