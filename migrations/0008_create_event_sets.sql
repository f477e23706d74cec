-- Exact unique users and sessions, PERFORMANCE percentiles and ingestion-lag percentiles cannot
-- be summed across buckets, so they were computed from every event of a range: 0.4-1.2 s for 30
-- days of 333k events (query bench), most of it hashing user and session ids. An event set holds,
-- per (tenant, hour or day, type), the distinct users and sessions as small numbers and the
-- values those percentiles sort. Sets of different periods and types are unioned by the query
-- Lambda (a few hundred rows instead of hundreds of thousands) and stay exact.
--
-- The query path builds a set the first time a range needs it and whenever the rollups it stands
-- beside count differently than when it was built (late events); the writer does not touch
-- these tables, so ingestion pays nothing for them.

-- A per-tenant dictionary: user and session ids as dense numbers, so a set is 4 bytes per member
-- and a union is a pass over an array. Numbers are handed out under a per-tenant advisory lock.
CREATE TABLE set_members (
  tenant_id uuid    NOT NULL,
  kind      "char"  NOT NULL CHECK (kind IN ('u', 's')),
  -- "C": ids are compared as bytes; the database's locale made numbering 30 days sort for 1 s.
  member    text    COLLATE "C" NOT NULL,
  number    integer NOT NULL,
  PRIMARY KEY (tenant_id, kind, member),
  UNIQUE (tenant_id, kind, number)
);

CREATE TABLE event_sets (
  tenant_id    uuid        NOT NULL,
  granularity  text        NOT NULL CHECK (granularity IN ('hour', 'day')),
  period_start timestamptz NOT NULL,
  event_type   varchar(50) NOT NULL,
  -- The events the set was built from.
  event_count  bigint      NOT NULL,
  -- The rollups' count for its period and type in the snapshot it was built in: the set is
  -- valid while they count as many (a purge deletes events, never rollups). -1 when an event's
  -- member had no number in that snapshot (numbered after the numbering step): never valid.
  rollup_count bigint      NOT NULL,
  -- Distinct member numbers, int4 big-endian each.
  users        bytea       NOT NULL,
  sessions     bytea       NOT NULL,
  -- float8 big-endian each: PERFORMANCE values, and stored_at - received_at in ms, as the
  -- plain percentile_cont reads them (so both give the same doubles).
  performance_values bytea NOT NULL,
  lags_ms      bytea       NOT NULL,
  -- Null for a period whose events of the type were all purged (an empty set).
  first_seen   timestamptz,
  last_seen    timestamptz,
  built_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, granularity, period_start, event_type)
);
-- Random member numbers do not compress: skip pglz's attempt on every read and write.
ALTER TABLE event_sets
  ALTER users SET STORAGE EXTERNAL,
  ALTER sessions SET STORAGE EXTERNAL,
  ALTER performance_values SET STORAGE EXTERNAL,
  ALTER lags_ms SET STORAGE EXTERNAL;

GRANT SELECT, INSERT ON set_members TO tracker_app;
-- DELETE: the purge drops the sets of the periods it empties.
GRANT SELECT, INSERT, UPDATE, DELETE ON event_sets TO tracker_app;

ALTER TABLE set_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE set_members FORCE ROW LEVEL SECURITY;
ALTER TABLE event_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_sets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON set_members
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON event_sets
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
