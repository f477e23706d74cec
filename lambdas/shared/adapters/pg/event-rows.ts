import type { EventType } from '../../domain/event-schemas.js';
import type { StoredEvent } from '../../ports/event-store.js';

/** The columns of an event as the API answers it. */
export const EVENT_COLUMNS = `event_id, timestamp, event_type, category, action, label, value, user_id, session_id,
  properties, context, metadata, received_at, stored_at`;

export interface EventRow {
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

export const toIso = (value: Date | string): string => new Date(value).toISOString();

/** pg returns numeric and bigint as strings (PGlite as numbers): one conversion for both. */
export const toNumber = (value: string | number | null): number | null => (value === null ? null : Number(value));

function storedEvent(row: EventRow, instant: (value: Date | string) => string): StoredEvent {
  return {
    eventId: row.event_id,
    timestamp: instant(row.timestamp),
    type: row.event_type,
    category: row.category,
    action: row.action,
    label: row.label,
    value: toNumber(row.value),
    userId: row.user_id,
    sessionId: row.session_id,
    properties: row.properties,
    context: row.context,
    metadata: row.metadata,
    receivedAt: instant(row.received_at),
    storedAt: instant(row.stored_at),
  };
}

export const toStoredEvent = (row: EventRow): StoredEvent => storedEvent(row, toIso);

/**
 * For a query that wrote the instants as the API does itself (`to_char(... AT TIME ZONE 'UTC',
 * 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`): no date is parsed. Three a row were the archive
 * export's largest single cost (docs/benchmarks.md, Retention).
 */
export const toStoredEventOfIsoText = (row: EventRow): StoredEvent => storedEvent(row, String);
