import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { packMessages } from '../../../../../lambdas/shared/domain/queue-messages.js';
import { groupIntoCalls, SqsEventQueue } from '../../../../../lambdas/shared/adapters/sqs/sqs-event-queue.js';
import { decodeMessage, envelope, queueMessage, TENANT_A, trackedEvent } from '../../../../support/factories.js';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/events';

function queue() {
  return new SqsEventQueue(new SQSClient({}), QUEUE_URL, { maxMessageBytes: 256 * 1024, baseDelayMs: 1 });
}

describe('SqsEventQueue', () => {
  beforeEach(() => {
    sqs.reset();
  });

  it('sends at most 10 entries per SendMessageBatch call', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const messages = Array.from({ length: 23 }, () => queueMessage(envelope([trackedEvent()])));

    // Act
    const result = await queue().enqueue(messages);

    // Assess
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]?.args[0].input.QueueUrl).toBe(QUEUE_URL);
    expect(result.failed).toEqual([]);
  });

  it('packs a 1000-event batch into few messages, each under the size limit', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    const events = Array.from({ length: 1000 }, () => trackedEvent({ properties: { page: '/checkout', plan: 'pro' } }));
    const messages = packMessages({ tenantId: TENANT_A, actor: 'a', requestId: 'r' }, events, 256 * 1024);

    await queue().enqueue(messages);

    const bodies = sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []).map((entry) => entry.MessageBody ?? '');
    expect(bodies.length).toBeLessThanOrEqual(3);
    expect(bodies.every((body) => Buffer.byteLength(body) <= 256 * 1024)).toBe(true);
    expect(bodies.flatMap((body) => decodeMessage(body).rows.map((row) => row.eventId))).toEqual(events.map((event) => event.eventId));
  });

  it('retries entries SQS reports as failed and reports nothing when the retry succeeds', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }] })
      .resolvesOnce({ Failed: [] });
    const messages = [queueMessage(envelope([trackedEvent()])), queueMessage(envelope([trackedEvent()]))];

    const result = await queue().enqueue(messages);

    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Entries?.map((entry) => entry.Id)).toEqual(['1']);
    expect(result.failed).toEqual([]);
  });

  it('does not retry a sender fault and reports each of its events as failed', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [{ Id: '0', Code: 'InvalidMessageContents', SenderFault: true, Message: 'bad' }] });
    const events = [trackedEvent(), trackedEvent()];

    const result = await queue().enqueue([queueMessage(envelope(events))]);

    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(result.failed.map((failure) => failure.eventId)).toEqual(events.map((event) => event.eventId));
    expect(result.failed[0]?.reason).toMatch(/InvalidMessageContents/);
  });

  it('reports the events of a call that kept throwing after every attempt', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('socket hang up'));
    const event = trackedEvent();

    const result = await queue().enqueue([queueMessage(envelope([event]))]);

    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
    expect(result.failed).toEqual([{ eventId: event.eventId, reason: 'Error: socket hang up' }]);
  });
});

describe('groupIntoCalls', () => {
  it('starts a new call when the next entry would pass the byte limit', () => {
    const calls = groupIntoCalls([{ bytes: 60 }, { bytes: 60 }, { bytes: 30 }, { bytes: 100 }], 100);
    expect(calls.map((call) => call.map((entry) => entry.bytes))).toEqual([[60], [60, 30], [100]]);
  });
});
