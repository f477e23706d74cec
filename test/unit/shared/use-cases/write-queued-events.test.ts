import { describe, expect, it } from 'vitest';
import type { EventStore, ReceivedEnvelope } from '../../../../lambdas/shared/ports/event-store.js';
import { writeQueuedEvents } from '../../../../lambdas/shared/use-cases/write-queued-events.js';
import { envelope, trackedEvent } from '../../../support/factories.js';

/** A store that refuses any write containing a request id listed as rejected. */
function storeRejecting(rejected: string[] = []): EventStore & { writes: ReceivedEnvelope[][] } {
  const writes: ReceivedEnvelope[][] = [];
  return {
    writes,
    async writeEnvelopes(batch) {
      writes.push(batch);
      if (batch.some(({ envelope }) => rejected.includes(envelope.requestId))) throw new Error('value out of range');
      return { stored: batch.reduce((sum, { envelope }) => sum + envelope.events.length, 0), duplicates: 0 };
    },
    findEvent: async () => undefined,
  };
}

const record = (messageId: string, body: unknown) => ({ messageId, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('writeQueuedEvents', () => {
  it('writes all valid records in one call', async () => {
    const store = storeRejecting();

    const outcome = await writeQueuedEvents(store, [record('m1', envelope([trackedEvent()])), record('m2', envelope([trackedEvent(), trackedEvent()]))]);

    expect(store.writes).toHaveLength(1);
    expect(outcome).toEqual({ failed: [], stored: 3, duplicates: 0 });
  });

  it('fails a record that is not an envelope and still writes the others', async () => {
    const store = storeRejecting();

    const outcome = await writeQueuedEvents(store, [record('bad-json', '{oops'), record('bad-shape', { version: 2 }), record('good', envelope([trackedEvent()]))]);

    expect(outcome.failed.map((failure) => failure.messageId)).toEqual(['bad-json', 'bad-shape']);
    expect(outcome.stored).toBe(1);
  });

  it('fails a record with no events, or with an event lacking an id or a readable timestamp, and still writes the others', async () => {
    const store = storeRejecting();
    const { eventId: _id, ...withoutId } = trackedEvent();

    const outcome = await writeQueuedEvents(store, [
      record('no-events', { ...envelope([trackedEvent()]), events: [] }),
      record('no-id', { ...envelope([trackedEvent()]), events: [trackedEvent(), withoutId] }),
      record('bad-time', envelope([trackedEvent({ timestamp: 'yesterday' })])),
      record('good', envelope([trackedEvent()])),
    ]);

    expect(outcome.failed.map((failure) => failure.messageId)).toEqual(['no-events', 'no-id', 'bad-time']);
    expect(outcome.stored).toBe(1);
  });

  it('isolates a record the database rejects by writing record by record', async () => {
    const store = storeRejecting(['poison']);

    const outcome = await writeQueuedEvents(store, [
      record('m1', envelope([trackedEvent()], { requestId: 'fine-1' })),
      record('m2', envelope([trackedEvent()], { requestId: 'poison' })),
      record('m3', envelope([trackedEvent()], { requestId: 'fine-2' })),
    ]);

    expect(outcome.failed).toEqual([{ messageId: 'm2', reason: 'value out of range' }]);
    expect(outcome.stored).toBe(2);
  });

  it('fails every record when the database is down', async () => {
    const store = storeRejecting(['a', 'b']);

    const outcome = await writeQueuedEvents(store, [record('m1', envelope([trackedEvent()], { requestId: 'a' })), record('m2', envelope([trackedEvent()], { requestId: 'b' }))]);

    expect(outcome.failed.map((failure) => failure.messageId)).toEqual(['m1', 'm2']);
    expect(outcome.stored).toBe(0);
  });
});
