-- Pre-aggregates per (tenant, type, category, action) and bucket, written in the same
-- transaction as the events they count. value_count keeps avg exact when some values are null.
-- Unique users are not stored: they cannot be summed across buckets, so they come from events.
CREATE TABLE event_rollups (
  tenant_id    uuid         NOT NULL,
  granularity  text         NOT NULL CHECK (granularity IN ('minute', 'hour', 'day')),
  period_start timestamptz  NOT NULL,
  event_type   varchar(50)  NOT NULL,
  category     varchar(100) NOT NULL,
  action       varchar(100) NOT NULL,
  count        bigint       NOT NULL,
  value_count  bigint       NOT NULL,
  total_value  numeric      NOT NULL,
  min_value    numeric,
  max_value    numeric,
  updated_at   timestamptz  NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, granularity, period_start, event_type, category, action)
-- Every delivery updates the current hour and day rows again: free space on the page lets
-- those updates be HOT (no new index entry).
) WITH (fillfactor = 70);

-- One row per event id a tenant ever sent (within the window): the writer inserts here first
-- and only events that were new go on to the events table and the rollups.
CREATE TABLE event_dedupe (
  tenant_id       uuid        NOT NULL,
  event_id        uuid        NOT NULL,
  event_timestamp timestamptz NOT NULL,
  first_seen_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);

CREATE TABLE audit_log (
  audit_id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid        NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  action      text        NOT NULL CHECK (action IN
                ('EVENTS_TRACKED', 'EVENTS_BATCH_PROCESSED', 'EVENTS_QUERIED', 'EVENTS_PURGED', 'SECURITY_EVENT')),
  actor       text        NOT NULL,
  details     jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_audit_tenant_time ON audit_log (tenant_id, occurred_at DESC);
