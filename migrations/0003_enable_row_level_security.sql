-- The application role owns nothing and is bound by row-level security on every tenant table.
-- Roles are cluster-wide, so a second database on the same server finds it already there, or
-- creates it at the same moment (parallel test workers on a fresh server: unique_violation).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tracker_app') THEN
    CREATE ROLE tracker_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

-- Postgres 16 gives the creator of a role only ADMIN on it; the migrating user (Aurora's
-- master user) must also be a member to SET ROLE to it.
GRANT tracker_app TO CURRENT_USER;

GRANT USAGE ON SCHEMA public TO tracker_app;
GRANT SELECT, INSERT ON analytics_events TO tracker_app;
GRANT SELECT, INSERT, UPDATE ON event_rollups TO tracker_app;
GRANT SELECT, INSERT ON event_dedupe TO tracker_app;
-- Audit rows can be written and read, never changed or deleted, by the application.
GRANT SELECT, INSERT ON audit_log TO tracker_app;
GRANT EXECUTE ON FUNCTION ensure_event_partition(date) TO tracker_app;

ALTER TABLE analytics_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_events FORCE ROW LEVEL SECURITY;
ALTER TABLE event_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_rollups FORCE ROW LEVEL SECURITY;
ALTER TABLE event_dedupe ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_dedupe FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;

-- NULLIF: once a SET LOCAL ends, the setting reads as '' rather than NULL, and ''::uuid fails.
CREATE POLICY tenant_isolation ON analytics_events
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON event_rollups
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON event_dedupe
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON audit_log
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
