-- The outbox of the live counters in DynamoDB. The writer inserts, in the transaction that
-- stores the events, one delta per tenant and delivery: the counts of its new events per
-- minute, type and category. After the commit a flusher adds each delta to its DynamoDB
-- counters (idempotently, by delta id) and deletes it. A delta a crash or a DynamoDB outage
-- left here is taken by the next flush, so the counters count exactly the events stored.
CREATE TABLE live_counter_deltas (
  delta_id   uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id  uuid        NOT NULL,
  -- [{"minute": timestamptz, "type": text, "category": text, "count": int}], one per key.
  counts     jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The writer inserts as the tenant, under the tenant's policy; it never reads or deletes.
GRANT INSERT ON live_counter_deltas TO tracker_app;
ALTER TABLE live_counter_deltas ENABLE ROW LEVEL SECURITY;
ALTER TABLE live_counter_deltas FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON live_counter_deltas
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The flusher crosses tenants (a delta left by a crash may be any tenant's) and touches this
-- table alone: tracker_counters, NOLOGIN, held by the migrating user, bound by row-level
-- security like every role, with a policy on this table only. UPDATE because a claim locks
-- rows (FOR UPDATE); INSERT puts back the deltas a flush could not apply.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tracker_counters') THEN
    CREATE ROLE tracker_counters NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;
GRANT tracker_counters TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO tracker_counters;
GRANT SELECT, INSERT, UPDATE, DELETE ON live_counter_deltas TO tracker_counters;
CREATE POLICY counter_flush ON live_counter_deltas TO tracker_counters USING (true) WITH CHECK (true);
