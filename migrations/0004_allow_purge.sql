-- The admin purge deletes a tenant's old events as the application role; row-level security
-- (USING) keeps it to the tenant of the transaction. Audit rows stay insert-only.
GRANT DELETE ON analytics_events TO tracker_app;
