-- Events, range-partitioned by month. The primary key leads with (tenant_id, event_id) so that a
-- lookup by id uses one index probe per partition; it must include the partition key.
CREATE TABLE analytics_events (
  tenant_id   uuid         NOT NULL,
  event_id    uuid         NOT NULL,
  timestamp   timestamptz  NOT NULL,
  event_type  varchar(50)  NOT NULL CHECK (event_type IN
                ('USER_ACTION', 'SYSTEM_EVENT', 'ERROR', 'PERFORMANCE', 'BUSINESS', 'SECURITY', 'CUSTOM')),
  category    varchar(100) NOT NULL,
  action      varchar(100) NOT NULL,
  label       varchar(255),
  value       numeric,
  user_id     uuid,
  session_id  varchar(64),
  properties  jsonb        NOT NULL DEFAULT '{}',
  context     jsonb        NOT NULL DEFAULT '{}',
  metadata    jsonb        NOT NULL DEFAULT '{}',
  received_at timestamptz  NOT NULL,
  stored_at   timestamptz  NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id, timestamp)
) PARTITION BY RANGE (timestamp);

-- The specification's indexes; event_id and timestamp are appended where a keyset cursor or a
-- time range follows the equality columns.
CREATE INDEX idx_events_tenant_timestamp ON analytics_events (tenant_id, timestamp DESC, event_id DESC);
CREATE INDEX idx_events_user_action ON analytics_events (tenant_id, user_id, action);
CREATE INDEX idx_events_type_category ON analytics_events (tenant_id, event_type, category, timestamp);
CREATE INDEX idx_events_session ON analytics_events (tenant_id, session_id);
-- jsonb_path_ops: serves `properties @> '{...}'` with a smaller, faster index than the default.
CREATE INDEX idx_events_properties ON analytics_events USING GIN (properties jsonb_path_ops);

-- A write for a month with no partition must never fail: writers call this first. It runs as
-- its owner so the application role needs no DDL rights, and tolerates a concurrent creator.
CREATE FUNCTION ensure_event_partition(month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  first_day date := date_trunc('month', month)::date;
  partition_name text := format('analytics_events_%s', to_char(first_day, 'YYYY_MM'));
BEGIN
  IF to_regclass(partition_name) IS NOT NULL THEN
    RETURN;
  END IF;
  EXECUTE format(
    'CREATE TABLE IF NOT EXISTS %I PARTITION OF analytics_events FOR VALUES FROM (%L) TO (%L)',
    partition_name,
    to_char(first_day, 'YYYY-MM-DD') || ' 00:00:00+00',
    to_char((first_day + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
EXCEPTION WHEN duplicate_table OR unique_violation THEN
  NULL;
END $$;
REVOKE ALL ON FUNCTION ensure_event_partition(date) FROM PUBLIC;
