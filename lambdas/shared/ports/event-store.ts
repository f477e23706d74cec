import type { EventType } from '../domain/event-schemas.js';
import type { ReceivedMessage } from '../domain/queue-messages.js';

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

/** Durable storage of events, their rollups, dedupe marks and audit rows. */
export interface EventStore {
  /** Writes every event of the messages in one transaction: all of them or none. */
  writeMessages(messages: ReceivedMessage[]): Promise<WriteSummary>;
  findEvent(tenantId: string, eventId: string): Promise<StoredEvent | undefined>;
}
