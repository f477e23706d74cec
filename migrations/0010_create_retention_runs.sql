-- The retention job archives an expired monthly partition, verifies the archive, detaches and
-- drops the partition. Each step is recorded here before the next begins, so that a run cut off
-- anywhere resumes where it stopped and archives a month exactly once. A month whose partition
-- comes back after it was dropped (a late write) is archived again under the next generation:
-- its first archive is never overwritten.
CREATE TABLE retention_runs (
  partition_month date        NOT NULL CHECK (extract(day FROM partition_month) = 1),
  generation      integer     NOT NULL CHECK (generation > 0),
  state           text        NOT NULL CHECK (state IN ('exporting', 'uploaded', 'verified', 'detached', 'dropped')),
  -- Where the archive is: `events/YYYY-MM/run-<generation>/`.
  archive_prefix  text        NOT NULL,
  -- The manifest as uploaded: per tenant its key, rows, bytes, sha256, first and last timestamp.
  manifest        jsonb,
  started_at      timestamptz NOT NULL DEFAULT now(),
  uploaded_at     timestamptz,
  verified_at     timestamptz,
  detached_at     timestamptz,
  dropped_at      timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partition_month, generation)
);
-- At most one run of a month is under way.
CREATE UNIQUE INDEX idx_retention_runs_open ON retention_runs (partition_month) WHERE state <> 'dropped';

-- An operator table, not a tenant's: the application role gets no right on it. The job runs as
-- the migrating user (it owns the partitions it detaches and drops) and does its row work as
-- tracker_maintenance: NOLOGIN, held only by the migrating user, which owns these tables anyway,
-- and bound by row-level security like every other role, so its policies below are all it may
-- touch. BYPASSRLS would need a superuser, which Aurora does not give.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tracker_maintenance') THEN
    CREATE ROLE tracker_maintenance NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;
GRANT tracker_maintenance TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO tracker_maintenance;

GRANT SELECT, INSERT, UPDATE ON retention_runs TO tracker_maintenance;
ALTER TABLE retention_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY maintenance_job ON retention_runs TO tracker_maintenance USING (true) WITH CHECK (true);

-- Pruning crosses tenants: rollups past their retention, dedupe rows past the last delivery that
-- could repeat them, event sets of dropped months and dictionary entries no event uses any more.
GRANT SELECT, DELETE ON event_rollups, event_dedupe, event_sets, set_members TO tracker_maintenance;
CREATE POLICY maintenance_prune ON event_rollups FOR ALL TO tracker_maintenance USING (true);
CREATE POLICY maintenance_prune ON event_dedupe FOR ALL TO tracker_maintenance USING (true);
CREATE POLICY maintenance_prune ON event_sets FOR ALL TO tracker_maintenance USING (true);
CREATE POLICY maintenance_prune ON set_members FOR ALL TO tracker_maintenance USING (true);
-- Whether a dictionary entry is still used: the remaining events, read through the parent.
GRANT SELECT ON analytics_events TO tracker_maintenance;
CREATE POLICY maintenance_read ON analytics_events FOR SELECT TO tracker_maintenance USING (true);
-- One EVENTS_PURGED entry per tenant and dropped partition; audit rows stay insert-only.
GRANT INSERT ON audit_log TO tracker_maintenance;
CREATE POLICY maintenance_audit ON audit_log FOR INSERT TO tracker_maintenance WITH CHECK (action = 'EVENTS_PURGED');
