-- A purge corrects the tenant's rollups as it deletes their events (adapters/pg/event-rollups.ts):
-- it deletes the rows of the periods it emptied and rebuilds the one its cut-off falls in. Row-level
-- security (USING) keeps the delete to the tenant of the transaction, as for the events (0004).
GRANT DELETE ON event_rollups TO tracker_app;
