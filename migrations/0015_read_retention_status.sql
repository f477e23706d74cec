-- GET /v1/admin/retention: a tenant's administrator sees the retention job's runs. The state
-- tables are the operator's (0010, 0012): the application role gets no right on them, and a
-- partition run's manifest names every tenant of the month. So the read is one SECURITY DEFINER
-- function, owned by tracker_maintenance (whose policies already let it read both tables),
-- that answers as the tenant policy would: only the tenant of the transaction's own runs, and of
-- a partition's runs only that tenant's entry of the manifest. The application role may only
-- call it.
CREATE FUNCTION retention_runs_of_tenant()
RETURNS TABLE (kind text, partition_month date, generation integer, state text, rows bigint, bytes bigint, archive_key text,
  started_at timestamptz, finished_at timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  WITH tenant AS (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid AS id)
  SELECT 'partition', r.partition_month, r.generation, r.state,
    -- Uploaded without this tenant: it had no rows in that month.
    CASE WHEN r.manifest IS NULL THEN NULL ELSE coalesce((entry.value->>'rows')::bigint, 0) END,
    (entry.value->>'bytes')::bigint, entry.value->>'key', r.started_at, r.dropped_at, r.updated_at
  FROM retention_runs r CROSS JOIN tenant
  LEFT JOIN LATERAL (SELECT value FROM jsonb_array_elements(r.manifest->'tenants') WHERE value->>'tenantId' = tenant.id::text) AS entry ON true
  WHERE tenant.id IS NOT NULL
  UNION ALL
  SELECT 'tenant', r.partition_month, r.generation, r.state,
    (entry.value->>'rows')::bigint, (entry.value->>'bytes')::bigint, entry.value->>'key', r.started_at,
    CASE r.state WHEN 'deleted' THEN r.deleted_at WHEN 'superseded' THEN r.updated_at END, r.updated_at
  FROM tenant_retention_runs r CROSS JOIN tenant
  LEFT JOIN LATERAL (SELECT value FROM jsonb_array_elements(r.manifest->'tenants') WHERE value->>'tenantId' = tenant.id::text) AS entry ON true
  WHERE r.tenant_id = tenant.id
$$;
REVOKE ALL ON FUNCTION retention_runs_of_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention_runs_of_tenant() TO tracker_app;

-- As in 0007: handing the function over needs a CREATE right for a moment, taken back at once.
-- The migrating user holds tracker_maintenance already (0010): the job runs as it.
GRANT CREATE ON SCHEMA public TO tracker_maintenance;
ALTER FUNCTION retention_runs_of_tenant() OWNER TO tracker_maintenance;
REVOKE CREATE ON SCHEMA public FROM tracker_maintenance;
