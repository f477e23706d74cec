-- A dictionary without statistics (new, truncated, or on a server with autovacuum off) had the
-- planner probe members through the (tenant_id, kind, number) index: its first two columns tie
-- with the primary key's estimate, and each probe walked the tenant's whole dictionary (a 20-day
-- backfill of 5,000 events kept its sets in 20 s instead of 0.4 s, bench:writer). Numbers
-- ordered after the tenant alone leave the primary key the only index a probe can use. New
-- numbers follow the tenant's highest of either kind (each kind counted from 1 before): one
-- backward step of this index, where the highest of one kind would walk the other's above it.
ALTER TABLE set_members DROP CONSTRAINT set_members_tenant_id_kind_number_key;
ALTER TABLE set_members ADD CONSTRAINT set_members_tenant_id_number_kind_key UNIQUE (tenant_id, number, kind);

-- The dictionary and the sets grow with the writes too: their statistics follow them the way
-- the partitions' do (migration 0017). `among`: the grown tables of these alone (the set
-- keeper analyzes what it grew, and leaves the partitions to the writer).
DROP FUNCTION analyze_grown_partitions();
CREATE FUNCTION analyze_grown_tables(among regclass[] DEFAULT NULL) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  grown regclass;
BEGIN
  -- One caller at a time; the others go on writing.
  IF NOT pg_try_advisory_xact_lock(hashtextextended('analyze_grown_tables', 0)) THEN
    RETURN;
  END IF;
  FOR grown IN
    SELECT c.oid::regclass FROM pg_class c
    WHERE (c.oid IN ('set_members'::regclass, 'event_sets'::regclass)
           OR c.oid IN (SELECT i.inhrelid FROM pg_inherits i
                        WHERE i.inhparent IN ('analytics_events'::regclass, 'event_rollups'::regclass) AND NOT i.inhdetachpending))
      AND (among IS NULL OR c.oid = ANY (among))
      AND pg_relation_size(c.oid) / current_setting('block_size')::int > c.relpages * 1.1 + 8
    ORDER BY c.relname
  LOOP
    EXECUTE format('ANALYZE %s', grown);
    RETURN NEXT grown::text;
  END LOOP;
END $$;
REVOKE ALL ON FUNCTION analyze_grown_tables(regclass[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analyze_grown_tables(regclass[]) TO tracker_app;
