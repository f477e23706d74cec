-- The jsonb_path_ops index held every tenant's properties: a containment match found all
-- tenants' rows and the tenant was filtered on the heap (bench, 1M + 3M events: 165-217 ms for
-- one property filter). btree_gin lets the GIN index lead with tenant_id, so the index answers
-- only the tenant's matches. btree_gin is trusted (PG 13+): the migrating user needs no
-- superuser, on Aurora PG 16 as on PG 15; PGlite loads it as an extension.
CREATE EXTENSION IF NOT EXISTS btree_gin;
-- New entries wait in a pending list that every query scans whole, all tenants included: at the
-- default 4 MB limit the bench found 22,000-42,000 pending tuples per partition, and cleaning
-- them took a property filter's count from 65 to 43 ms. 256 kB bounds that scan and keeps the
-- writer's bulk merge of new entries.
CREATE INDEX idx_events_tenant_properties ON analytics_events USING GIN (tenant_id, properties jsonb_path_ops)
  WITH (gin_pending_list_limit = 256);
-- Every read filters on the tenant, so the old index would only add write cost.
DROP INDEX idx_events_properties;
