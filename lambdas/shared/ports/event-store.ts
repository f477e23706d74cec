import type { StoredEvent } from '../domain/answer-schemas.js';
import type { ReceivedMessage } from '../domain/queue-messages.js';
import type { StoredEventBatch } from './stored-event-publisher.js';

export type { StoredEvent };

export interface WriteSummary {
  /** Events that were new and are now stored. */
  stored: number;
  /** Events whose id the tenant had sent before: accepted, not stored again. */
  duplicates: number;
  /** The new events of the tenants asked for (`returnEventsOf`), as their staged rows. */
  storedEvents: StoredEventBatch[];
}

export interface WriteOptions {
  /** Tenants whose new events the summary carries; the others' are only counted. */
  returnEventsOf?: ReadonlySet<string>;
}

/** Durable storage of events, their rollups, dedupe marks and audit rows. */
export interface EventStore {
  /** Writes every event of the messages in one transaction: all of them or none. */
  writeMessages(messages: ReceivedMessage[], options?: WriteOptions): Promise<WriteSummary>;
  findEvent(tenantId: string, eventId: string): Promise<StoredEvent | undefined>;
}
