import { NotFoundError } from '../domain/errors.js';
import type { EventStore, StoredEvent } from '../ports/event-store.js';

/** An event of the caller's tenant; another tenant's id is indistinguishable from a missing one. */
export async function getEvent(store: EventStore, tenantId: string, eventId: string): Promise<StoredEvent> {
  const event = await store.findEvent(tenantId, eventId);
  if (!event) throw new NotFoundError(`No event ${eventId}.`);
  return event;
}
