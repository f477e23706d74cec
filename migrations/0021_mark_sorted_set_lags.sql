-- The event-types summary reads the p50 and p95 ingestion lag of every type over its range, and
-- read every lag of its sets for them: 333,000 for 30 days at 1M events, 5.3 MB of hex on each
-- read, then selected in the Lambda (17 of its 40 ms; docs/benchmarks.md, Queries). A set per
-- hour or day and type now keeps its lags sorted, and beside them every 32nd of them from the
-- first (`lag_marks`): the marks of all the sets bound the rows a percentile lands on to a
-- window of each set, and only the windows are read, as slices of the uncompressed value
-- (STORAGE EXTERNAL: a substring reads only the chunks it needs). The sets per day and key keep
-- no lags and no marks (''). Sets built before have NULL marks and unsorted lags: a read takes
-- their lags whole, as before, and the keeper treats them as stale, so the maintenance schedule
-- rebuilds them within its budget.
ALTER TABLE event_sets ADD COLUMN lag_marks bytea;
ALTER TABLE event_sets ALTER lag_marks SET STORAGE EXTERNAL;
