import type { EventType, QueuedEnvelope } from '../domain/event-schemas.js';

/** An event as the API answers it. */
export interface StoredEvent {
  eventId: string;
  timestamp: string;
  type: EventType;
  category: string;
  action: string;
  label: string | null;
  value: number | null;
  userId: string | null;
  sessionId: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  receivedAt: string;
  storedAt: string;
}

export interface WriteSummary {
  /** Events that were new and are now stored. */
  stored: number;
  /** Events whose id the tenant had sent before: accepted, not stored again. */
  duplicates: number;
}

/**
 * An envelope as read off the queue: its checked header, and its body exactly as received,
 * so that the store need not serialise the events again (about 4 µs per event).
 */
export interface ReceivedEnvelope {
  envelope: QueuedEnvelope;
  body: string;
}

/** Durable storage of events, their rollups, dedupe marks and audit rows. */
export interface EventStore {
  /** Writes every event of the envelopes in one transaction: all of them or none. */
  writeEnvelopes(received: ReceivedEnvelope[]): Promise<WriteSummary>;
  findEvent(tenantId: string, eventId: string): Promise<StoredEvent | undefined>;
}
