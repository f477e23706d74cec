import type { EventType, QueueEnvelope, TrackedEvent } from '../../domain/event-schemas.js';
import type { EventStore, StoredEvent, WriteSummary } from '../../ports/event-store.js';
import type { SqlDatabase } from './sql-database.js';
import { inTenantTransaction, scopeToTenant } from './tenant-transaction.js';

/**
 * One statement per tenant and batch: the events arrive as one JSON document, the dedupe
 * insert decides which are new, and only those are stored, rolled up and audited. A
 * redelivered message therefore changes nothing, and there is no per-event round trip.
 */
const WRITE_TENANT_EVENTS = `
WITH input AS (
  SELECT * FROM json_to_recordset($2::json) AS t(
    "eventId" uuid, "timestamp" timestamptz, "type" text, "category" text, "action" text,
    "label" text, "value" numeric, "userId" uuid, "sessionId" text, "properties" jsonb,
    "context" jsonb, "metadata" jsonb, "receivedAt" timestamptz, "actor" text, "requestId" text)
),
fresh AS (
  INSERT INTO event_dedupe (tenant_id, event_id, event_timestamp)
  SELECT $1, "eventId", "timestamp" FROM input
  ON CONFLICT DO NOTHING
  RETURNING event_id
),
stored AS (
  INSERT INTO analytics_events (tenant_id, event_id, timestamp, event_type, category, action, label,
    value, user_id, session_id, properties, context, metadata, received_at)
  SELECT $1, i."eventId", i."timestamp", i."type", i."category", i."action", i."label", i."value",
    i."userId", i."sessionId", i."properties", i."context", i."metadata", i."receivedAt"
  FROM input i JOIN fresh f ON f.event_id = i."eventId"
  RETURNING event_id, timestamp, event_type, category, action, value, user_id, metadata
),
rolled AS (
  INSERT INTO event_rollups AS r (tenant_id, granularity, period_start, event_type, category, action,
    count, value_count, total_value, min_value, max_value)
  SELECT $1, g.granularity, date_trunc(g.granularity, s.timestamp, 'UTC'), s.event_type, s.category,
    s.action, count(*), count(s.value), coalesce(sum(s.value), 0), min(s.value), max(s.value)
  FROM stored s CROSS JOIN (VALUES ('minute'), ('hour'), ('day')) AS g(granularity)
  GROUP BY 2, 3, 4, 5, 6
  -- A fixed order of row locks keeps concurrent writers from deadlocking on shared buckets.
  ORDER BY 2, 3, 4, 5, 6
  ON CONFLICT (tenant_id, granularity, period_start, event_type, category, action) DO UPDATE SET
    count = r.count + excluded.count,
    value_count = r.value_count + excluded.value_count,
    total_value = r.total_value + excluded.total_value,
    min_value = LEAST(r.min_value, excluded.min_value),
    max_value = GREATEST(r.max_value, excluded.max_value),
    updated_at = now()
),
tracked AS (
  SELECT s.*, i.actor, i."requestId" FROM stored s JOIN input i ON i."eventId" = s.event_id
),
security_audit AS (
  INSERT INTO audit_log (tenant_id, action, actor, details)
  SELECT $1, 'SECURITY_EVENT', actor, jsonb_build_object('eventId', event_id, 'category', category,
    'action', action, 'severity', metadata->>'severity', 'userId', user_id, 'timestamp', timestamp)
  FROM tracked WHERE event_type = 'SECURITY'
),
tracked_audit AS (
  INSERT INTO audit_log (tenant_id, action, actor, details)
  SELECT $1, 'EVENTS_TRACKED', actor, jsonb_build_object('stored', count(*),
    'eventTypes', jsonb_agg(DISTINCT event_type), 'categories', jsonb_agg(DISTINCT category),
    'uniqueUsers', count(DISTINCT user_id), 'requestIds', jsonb_agg(DISTINCT "requestId"))
  FROM tracked GROUP BY actor
),
batch_audit AS (
  INSERT INTO audit_log (tenant_id, action, actor, details)
  SELECT $1, 'EVENTS_BATCH_PROCESSED', b.actor, jsonb_build_object('requestId', b."requestId",
    'total', b.total, 'accepted', b.accepted, 'rejected', b.rejected)
  FROM json_to_recordset($3::json) AS b(actor text, "requestId" text, total int, accepted int, rejected int)
  -- A redelivered first message stores nothing new, and must not audit its request again.
  WHERE EXISTS (SELECT 1 FROM tracked t WHERE t."requestId" = b."requestId")
)
SELECT count(*)::int AS stored FROM stored`;

const SELECT_EVENT = `
SELECT event_id, timestamp, event_type, category, action, label, value, user_id, session_id,
  properties, context, metadata, received_at, stored_at
FROM analytics_events WHERE tenant_id = $1 AND event_id = $2`;

interface EventRow {
  event_id: string;
  timestamp: Date | string;
  event_type: EventType;
  category: string;
  action: string;
  label: string | null;
  value: string | number | null;
  user_id: string | null;
  session_id: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  received_at: Date | string;
  stored_at: Date | string;
}

interface TenantBatch {
  events: Array<TrackedEvent & { actor: string; requestId: string }>;
  batchSummaries: Array<{ actor: string; requestId: string; total: number; accepted: number; rejected: number }>;
}

const toIso = (value: Date | string): string => new Date(value).toISOString();

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    eventId: row.event_id,
    timestamp: toIso(row.timestamp),
    type: row.event_type,
    category: row.category,
    action: row.action,
    label: row.label,
    value: row.value === null ? null : Number(row.value),
    userId: row.user_id,
    sessionId: row.session_id,
    properties: row.properties,
    context: row.context,
    metadata: row.metadata,
    receivedAt: toIso(row.received_at),
    storedAt: toIso(row.stored_at),
  };
}

/** Groups envelopes by tenant; an id repeated inside the batch keeps its first occurrence. */
function groupByTenant(envelopes: QueueEnvelope[]): Map<string, TenantBatch> {
  const batches = new Map<string, TenantBatch>();
  const seen = new Set<string>();
  for (const envelope of envelopes) {
    let batch = batches.get(envelope.tenantId);
    if (!batch) {
      batch = { events: [], batchSummaries: [] };
      batches.set(envelope.tenantId, batch);
    }
    if (envelope.batchSummary) batch.batchSummaries.push({ actor: envelope.actor, requestId: envelope.requestId, ...envelope.batchSummary });
    for (const event of envelope.events) {
      const key = `${envelope.tenantId}/${event.eventId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      batch.events.push({ ...event, actor: envelope.actor, requestId: envelope.requestId });
    }
  }
  return batches;
}

/** Postgres: 'no partition of relation "analytics_events" found for row' (check_violation). */
function isMissingPartition(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === '23514' && error.message.includes('no partition');
}

const monthOf = (isoTimestamp: string): string => `${new Date(isoTimestamp).toISOString().slice(0, 7)}-01`;

export class PgEventStore implements EventStore {
  /** Months whose partition is known to exist; saves a round trip on every warm invocation. */
  private readonly knownMonths = new Set<string>();

  constructor(private readonly db: SqlDatabase) {}

  async writeEnvelopes(envelopes: QueueEnvelope[]): Promise<WriteSummary> {
    const batches = groupByTenant(envelopes);
    const received = envelopes.reduce((sum, envelope) => sum + envelope.events.length, 0);
    const months = envelopes.flatMap((envelope) => envelope.events.map((event) => monthOf(event.timestamp)));
    await this.ensurePartitions(months);

    const stored = await this.writeTenantBatches(batches).catch(async (error: unknown) => {
      // The maintenance job may have dropped a partition this container still believes in.
      if (!isMissingPartition(error)) throw error;
      this.knownMonths.clear();
      await this.ensurePartitions(months);
      return this.writeTenantBatches(batches);
    });
    return { stored, duplicates: received - stored };
  }

  private writeTenantBatches(batches: Map<string, TenantBatch>): Promise<number> {
    return this.db.transaction(async (session) => {
      let total = 0;
      for (const [tenantId, batch] of batches) {
        await scopeToTenant(session, tenantId);
        const [row] = await session.query<{ stored: number }>(WRITE_TENANT_EVENTS, [
          tenantId,
          JSON.stringify(batch.events),
          JSON.stringify(batch.batchSummaries),
        ]);
        total += row?.stored ?? 0;
      }
      return total;
    });
  }

  async findEvent(tenantId: string, eventId: string): Promise<StoredEvent | undefined> {
    const rows = await inTenantTransaction(this.db, tenantId, (session) => session.query<EventRow>(SELECT_EVENT, [tenantId, eventId]));
    return rows[0] && toStoredEvent(rows[0]);
  }

  /** Created outside the write transaction so that its DDL lock is held for milliseconds only. */
  private async ensurePartitions(months: string[]): Promise<void> {
    const missing = [...new Set(months)].filter((month) => !this.knownMonths.has(month));
    if (missing.length === 0) return;
    await this.db.query('SELECT ensure_event_partition(month::date) FROM unnest($1::text[]) AS month', [missing]);
    for (const month of missing) this.knownMonths.add(month);
  }
}
