-- A tenant that keeps its events for less than the deployment does (TENANT_EVENT_RETENTION) has
-- its rows of a month archived, verified and then deleted in batches, while the month's partition
-- stays for the other tenants. Each step is recorded here, as retention_runs does for partitions.
-- Only rows stored before `stored_before` are archived and deleted: a row that arrives later
-- (a late delivery) stays for the next run, under the next generation.
CREATE TABLE tenant_retention_runs (
  partition_month date        NOT NULL CHECK (extract(day FROM partition_month) = 1),
  tenant_id       uuid        NOT NULL,
  generation      integer     NOT NULL CHECK (generation > 0),
  -- superseded: the whole partition was archived and dropped before this run finished.
  state           text        NOT NULL CHECK (state IN ('exporting', 'uploaded', 'verified', 'deleted', 'superseded')),
  -- `events/YYYY-MM/tenant-<tenant id>/run-<generation>/`.
  archive_prefix  text        NOT NULL,
  stored_before   timestamptz NOT NULL,
  manifest        jsonb,
  -- Rows deleted so far, in the transaction of each batch: a run resumed after a crash knows
  -- how many of the archived rows are already gone.
  deleted_rows    integer     NOT NULL DEFAULT 0,
  started_at      timestamptz NOT NULL DEFAULT now(),
  uploaded_at     timestamptz,
  verified_at     timestamptz,
  deleted_at      timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partition_month, tenant_id, generation)
);
CREATE UNIQUE INDEX idx_tenant_retention_runs_open ON tenant_retention_runs (partition_month, tenant_id) WHERE state NOT IN ('deleted', 'superseded');

GRANT SELECT, INSERT, UPDATE ON tenant_retention_runs TO tracker_maintenance;
ALTER TABLE tenant_retention_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_retention_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY maintenance_job ON tenant_retention_runs TO tracker_maintenance USING (true) WITH CHECK (true);
