-- Event sets per day, type, category and action (granularity 'dimension_day'), beside the sets
-- per hour and day and type. An aggregate grouped or filtered by category or action counted its
-- unique users and percentiles from every event of its range: 909 ms of the dashboard's 1.2 s for
-- 30 days at 1M events (docs/benchmarks.md, Dashboard), where the same question by type reads a
-- few hundred sets. A day's sets per key partition its events, so together they hold about as
-- many members as its set per type; they are kept with it, from the same read of its events, and
-- checked against the rollups' row for the same day and key (granularity 'day'). No hour sets
-- per key: an hour holds about one event per key at the bench's rate, and a read of hours by
-- category reads the events, as before. Existing days have none until a keeper rebuilds them;
-- until then a read finds them stale and counts those days from the events.
ALTER TABLE event_sets
  ADD COLUMN category varchar(100) NOT NULL DEFAULT '',
  ADD COLUMN action varchar(100) NOT NULL DEFAULT '';
ALTER TABLE event_sets DROP CONSTRAINT event_sets_granularity_check;
ALTER TABLE event_sets ADD CONSTRAINT event_sets_granularity_check
  CHECK (granularity IN ('hour', 'day', 'dimension_day'));
ALTER TABLE event_sets DROP CONSTRAINT event_sets_pkey;
ALTER TABLE event_sets ADD PRIMARY KEY (tenant_id, granularity, period_start, event_type, category, action);
