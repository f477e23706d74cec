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

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    eventId: row.event_id,
    timestamp: toIso(row.timestamp),
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
    receivedAt: toIso(row.received_at),
    storedAt: toIso(row.stored_at),
  };
}
