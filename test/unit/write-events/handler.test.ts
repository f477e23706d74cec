import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SQSRecord } from 'aws-lambda';
import { DatabaseUnavailableError } from '../../../lambdas/shared/domain/errors.js';
import type { EventStore } from '../../../lambdas/shared/ports/event-store.js';
import { createWriteEventsHandler } from '../../../lambdas/write-events/handler.js';
import { envelope, messageBody, noCounterFlush, trackedEvent } from '../../support/factories.js';
import { recordMetrics } from '../../support/emf.js';

/** Stores whatever it is given; the writer's SQL is proven on a real database elsewhere. */
const acceptingStore: EventStore = {
  writeMessages: async (messages) => ({ stored: messages.length, duplicates: 0, storedEvents: [] }),
  findEvent: async () => undefined,
};

const record = (messageId: string, body: string) => ({ messageId, body }) as SQSRecord;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('write-events handler and a paused database', () => {
  it('hands the whole delivery back and does not wait for the database a second time to flush the live counters', async () => {
    const paused: EventStore = {
      writeMessages: async () => {
        throw new DatabaseUnavailableError(10, 'resuming');
      },
      findEvent: async () => undefined,
    };
    const flush = vi.fn(noCounterFlush.flush);

    const response = await createWriteEventsHandler(paused, { flush })({ Records: [record('m0', messageBody(envelope([trackedEvent()]))), record('m1', messageBody(envelope([trackedEvent()])))] }, { awsRequestId: 'r' });

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }]);
    expect(flush).not.toHaveBeenCalled();
  });
});

describe('write-events handler metrics', () => {
  it('counts the records it hands back to the queue', async () => {
    const metrics = recordMetrics();
    const good = record('m0', messageBody(envelope([trackedEvent()])));

    const response = await createWriteEventsHandler(acceptingStore, noCounterFlush)({ Records: [good, record('m1', 'not a message'), record('m2', '{}\nrow\n')] }, { awsRequestId: 'r' });

    expect(response.batchItemFailures).toHaveLength(2);
    expect(metrics.datapoints()).toContainEqual({ metric: 'QueueRecordsFailed', dimensions: {}, value: 2 });
  });

  it('counts the events of the records it wrote by event type, and none of a record it hands back', async () => {
    const metrics = recordMetrics();
    const written = record('m0', messageBody(envelope([trackedEvent({ type: 'ERROR' }), trackedEvent({ type: 'ERROR' }), trackedEvent({ type: 'BUSINESS' })])));
    const alsoWritten = record('m1', messageBody(envelope([trackedEvent({ type: 'ERROR' })])));
    const handedBack = record('m2', `${messageBody(envelope([trackedEvent({ type: 'SECURITY' })]))}cut off`);

    await createWriteEventsHandler(acceptingStore, noCounterFlush)({ Records: [written, alsoWritten, handedBack] }, { awsRequestId: 'r' });

    const byType = metrics.datapoints().filter((point) => point.metric === 'EventsWritten' && 'EventType' in point.dimensions);
    expect(byType).toEqual([
      { metric: 'EventsWritten', dimensions: { EventType: 'ERROR' }, value: 3 },
      { metric: 'EventsWritten', dimensions: { EventType: 'BUSINESS' }, value: 1 },
    ]);
  });
});
