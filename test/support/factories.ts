import { randomUUID } from 'node:crypto';
import type { ReceivedEnvelope } from '../../lambdas/shared/ports/event-store.js';
import type { QueueEnvelope, TrackedEvent } from '../../lambdas/shared/domain/event-schemas.js';

export const TENANT_A = '11111111-1111-4111-8111-111111111111';
export const TENANT_B = '22222222-2222-4222-8222-222222222222';

export function trackedEvent(overrides: Partial<TrackedEvent> = {}): TrackedEvent {
  const now = new Date().toISOString();
  return {
    eventId: randomUUID(),
    timestamp: now,
    type: 'CUSTOM',
    category: 'test',
    action: 'run',
    label: null,
    value: null,
    userId: null,
    sessionId: null,
    properties: {},
    context: {},
    metadata: {},
    receivedAt: now,
    ...overrides,
  };
}

export function envelope(events: TrackedEvent[], overrides: Partial<QueueEnvelope> = {}): QueueEnvelope {
  return { version: 1, tenantId: TENANT_A, actor: 'tester', requestId: randomUUID(), events, ...overrides };
}

/** An envelope as the writer receives it off the queue. */
export function received(message: QueueEnvelope): ReceivedEnvelope {
  return { envelope: message, body: JSON.stringify(message) };
}
