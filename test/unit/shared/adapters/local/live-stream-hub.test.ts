import { describe, expect, it } from 'vitest';
import { LiveStreamHub, type StreamSink } from '../../../../../lambdas/shared/adapters/local/live-stream-hub.js';
import type { StreamMessage } from '../../../../../lambdas/shared/domain/live-stream.js';
import { storedRows, TENANT_A, trackedEvent } from '../../../../support/factories.js';

/** A sink that keeps each `send` call's frames as given, with a settable socket backlog. */
function recordingSink(): StreamSink & { sends: Array<ReadonlyArray<string | Buffer>>; backlog: number; messages(): StreamMessage[] } {
  const sink = {
    sends: [] as Array<ReadonlyArray<string | Buffer>>,
    backlog: 0,
    bufferedBytes: () => sink.backlog,
    send: (frames: ReadonlyArray<string | Buffer>) => void sink.sends.push(frames),
    messages: () => sink.sends.flat().map((frame) => JSON.parse(frame.toString()) as StreamMessage),
  };
  return sink;
}

const hubOf = (subscriberBufferBytes = 1 << 20) => new LiveStreamHub({ recentEventsPerTenant: 1000, resumeWindowMs: 1000, subscriberBufferBytes });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const eventIds = (messages: StreamMessage[]) => messages.flatMap((message) => (message.type === 'events' ? message.events.map((event) => event.eventId) : []));

describe('the local stream hub', () => {
  it('filters and frames a delivery once per distinct filter: subscribers of one filter are sent the same buffers', () => {
    // Prepare
    const hub = hubOf();
    const [errorsA, errorsB, everything] = [recordingSink(), recordingSink(), recordingSink()];
    hub.subscribe(TENANT_A, { filter: { types: ['ERROR'] } }, errorsA);
    hub.subscribe(TENANT_A, { filter: { types: ['ERROR'] } }, errorsB);
    hub.subscribe(TENANT_A, { filter: {} }, everything);
    const error = trackedEvent({ type: 'ERROR' });
    const custom = trackedEvent({ type: 'CUSTOM' });

    // Act
    hub.deliver([storedRows(TENANT_A, [error, custom])]);

    // Assess
    const [sentA, sentB] = [errorsA.sends.at(-1), errorsB.sends.at(-1)];
    expect(sentA?.[0]).toBeInstanceOf(Buffer);
    expect(sentB?.[0]).toBe(sentA?.[0]);
    expect(eventIds(errorsA.messages())).toEqual([error.eventId]);
    expect(eventIds(everything.messages()).sort()).toEqual([error.eventId, custom.eventId].sort());
  });

  it("writes a delivery's frames to a subscriber in one send, however many frames it takes", () => {
    const hub = hubOf();
    const sink = recordingSink();
    hub.subscribe(TENANT_A, { filter: {} }, sink);
    // About 2 KB each: 40 of them take three frames of at most 32 KB.
    const events = Array.from({ length: 40 }, () => trackedEvent({ properties: { note: 'x'.repeat(2000) } }));

    hub.deliver([storedRows(TENANT_A, events)]);

    const [, delivery] = sink.sends;
    expect(sink.sends).toHaveLength(2);
    expect(delivery?.length).toBeGreaterThan(1);
    expect(eventIds(sink.messages())).toHaveLength(40);
  });

  it('hands a publish off and returns: the subscribers are written on the next turn of the event loop', async () => {
    const hub = hubOf();
    const sink = recordingSink();
    hub.subscribe(TENANT_A, { filter: {} }, sink);
    const event = trackedEvent();

    await hub.publish([storedRows(TENANT_A, [event])]);
    const sentOnReturn = eventIds(sink.messages());
    await nextTurn();

    expect(sentOnReturn).toEqual([]);
    expect(eventIds(sink.messages())).toEqual([event.eventId]);
  });

  it('drops what a subscriber over its bound would be sent, counts it, and sends the count with its next events', () => {
    const hub = hubOf(1024);
    const [slow, reading] = [recordingSink(), recordingSink()];
    hub.subscribe(TENANT_A, { filter: {} }, slow);
    hub.subscribe(TENANT_A, { filter: {} }, reading);
    const [lost1, lost2, kept] = [trackedEvent(), trackedEvent(), trackedEvent()];

    slow.backlog = 2048;
    hub.deliver([storedRows(TENANT_A, [lost1])]);
    hub.deliver([storedRows(TENANT_A, [lost2])]);
    slow.backlog = 0;
    hub.deliver([storedRows(TENANT_A, [kept])]);

    expect(slow.sends).toHaveLength(2);
    expect(slow.sends[1]?.map((frame) => JSON.parse(frame.toString()) as StreamMessage)[0]).toEqual({ type: 'dropped', count: 2, total: 2 });
    expect(eventIds(slow.messages())).toEqual([kept.eventId]);
    expect(eventIds(reading.messages())).toEqual([lost1.eventId, lost2.eventId, kept.eventId]);
  });

  it('sends nothing more to a subscriber that left, and keeps its filter for the others', () => {
    const hub = hubOf();
    const [leaving, staying] = [recordingSink(), recordingSink()];
    const subscription = hub.subscribe(TENANT_A, { filter: { categories: ['a'] } }, leaving);
    hub.subscribe(TENANT_A, { filter: { categories: ['a'] } }, staying);
    const event = trackedEvent({ category: 'a' });

    subscription.unsubscribe();
    subscription.unsubscribe();
    hub.deliver([storedRows(TENANT_A, [event])]);

    expect(leaving.sends).toHaveLength(1);
    expect(eventIds(staying.messages())).toEqual([event.eventId]);
  });
});
