import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InProcessEventQueue } from '../../../../../lambdas/shared/adapters/local/in-process-queue.js';
import { decodeMessage, envelope, queueMessage, trackedEvent } from '../../../../support/factories.js';

const options = { batchSize: 3, batchWindowMs: 20, maxReceiveCount: 3, visibilityTimeoutMs: 10 };
const bodyIds = (event: SQSEvent) => event.Records.map((record) => decodeMessage(record.body).header.requestId);

describe('InProcessEventQueue', () => {
  it('delivers in batches of at most batchSize', async () => {
    const batches: string[][] = [];
    const queue = new InProcessEventQueue(async (event) => {
      batches.push(bodyIds(event));
      return { batchItemFailures: [] };
    }, options);

    await queue.enqueue(Array.from({ length: 7 }, (_, index) => queueMessage(envelope([trackedEvent()], { requestId: `r${index}` }))));
    await queue.drained();

    expect(batches.map((batch) => batch.length)).toEqual([3, 3, 1]);
    expect(batches.flat()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    queue.close();
  });

  it('waits up to the batch window for a partial batch', async () => {
    const started = Date.now();
    let deliveredAfter = 0;
    const queue = new InProcessEventQueue(async () => {
      deliveredAfter = Date.now() - started;
      return { batchItemFailures: [] };
    }, { ...options, batchWindowMs: 50 });

    await queue.enqueue([queueMessage(envelope([trackedEvent()]))]);
    await queue.drained();

    expect(deliveredAfter).toBeGreaterThanOrEqual(45);
    queue.close();
  });

  it('redelivers only the records reported as failed', async () => {
    const deliveries: string[][] = [];
    const queue = new InProcessEventQueue(async (event) => {
      deliveries.push(bodyIds(event));
      const flaky = event.Records.find((record) => record.body.includes('"flaky"') && record.attributes.ApproximateReceiveCount === '1');
      return { batchItemFailures: flaky ? [{ itemIdentifier: flaky.messageId }] : [] };
    }, options);

    await queue.enqueue([queueMessage(envelope([trackedEvent()], { requestId: 'ok' })), queueMessage(envelope([trackedEvent()], { requestId: 'flaky' }))]);
    await queue.drained();

    expect(deliveries).toEqual([['ok', 'flaky'], ['flaky']]);
    expect(queue.deadLetters).toEqual([]);
    queue.close();
  });

  it('moves a record to the dead letters after maxReceiveCount receives, without blocking others', async () => {
    const written: string[] = [];
    const queue = new InProcessEventQueue(async (event) => {
      const poison = event.Records.filter((record) => record.body.includes('"poison"'));
      for (const id of bodyIds(event)) if (id !== 'poison') written.push(id);
      return { batchItemFailures: poison.map((record) => ({ itemIdentifier: record.messageId })) };
    }, options);

    await queue.enqueue([queueMessage(envelope([trackedEvent()], { requestId: 'poison' })), queueMessage(envelope([trackedEvent()], { requestId: 'good' }))]);
    await queue.drained();

    expect(written).toEqual(['good']);
    expect(queue.deadLetters.map((message) => message.receiveCount)).toEqual([3]);
    queue.close();
  });

  it('redelivers the whole batch when the consumer throws', async () => {
    let calls = 0;
    const queue = new InProcessEventQueue(async () => {
      calls += 1;
      if (calls === 1) throw new Error('database down');
      return { batchItemFailures: [] };
    }, options);

    await queue.enqueue([queueMessage(envelope([trackedEvent()])), queueMessage(envelope([trackedEvent()]))]);
    await queue.drained();

    expect(calls).toBe(2);
    expect(queue.depth).toBe(0);
    queue.close();
  });
});
