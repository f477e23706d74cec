import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QueueEventSource, type EventSourceOptions, type QueueConsumer } from '../../../../../lambdas/shared/adapters/local/queue-event-source.js';
import { PgMessageQueue } from '../../../../../lambdas/shared/adapters/pg/pg-message-queue.js';
import { decodeMessage, envelope, queueMessage, trackedEvent } from '../../../../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../../../../support/test-database.js';

const options: EventSourceOptions = { batchSize: 3, batchWindowMs: 20, maxReceiveCount: 3, visibilityTimeoutMs: 10 };
const bodyIds = (event: SQSEvent) => event.Records.map((record) => decodeMessage(record.body).header.requestId);
const messages = (...requestIds: string[]) => requestIds.map((requestId) => queueMessage(envelope([trackedEvent()], { requestId })));
const succeed: QueueConsumer = async () => ({ batchItemFailures: [] });

let testDb: TestDatabase;
let queue: PgMessageQueue;
const sources: QueueEventSource[] = [];

function startSource(consume: QueueConsumer, overrides: Partial<EventSourceOptions> = {}): QueueEventSource {
  const source = new QueueEventSource(queue, consume, { ...options, ...overrides });
  sources.push(source);
  source.start();
  return source;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  queue = await PgMessageQueue.open(testDb.db);
});

beforeEach(async () => {
  for (const source of sources.splice(0)) await source.stop();
  await testDb.db.query('DELETE FROM local_queue.messages');
});

afterAll(async () => {
  for (const source of sources.splice(0)) await source.stop();
  await testDb.drop();
});

describe('QueueEventSource on PgMessageQueue', () => {
  it('delivers in batches of at most batchSize, oldest first', async () => {
    const batches: string[][] = [];
    await queue.enqueue(messages('r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6'));

    const source = startSource(async (event) => {
      batches.push(bodyIds(event));
      return { batchItemFailures: [] };
    });
    await source.drained();

    expect(batches.map((batch) => batch.length)).toEqual([3, 3, 1]);
    expect(batches.flat()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  });

  it('waits up to the batch window for a partial batch', async () => {
    let sentAt = 0;
    let deliveredAfter = 0;
    const source = startSource(async () => {
      deliveredAfter = Date.now() - sentAt;
      return { batchItemFailures: [] };
    }, { batchWindowMs: 200 });

    sentAt = Date.now();
    await queue.enqueue(messages('one'));
    await source.drained();

    expect(deliveredAfter).toBeGreaterThanOrEqual(190);
  });

  it('redelivers only the records reported as failed', async () => {
    const deliveries: string[][] = [];
    await queue.enqueue(messages('ok', 'flaky'));

    const source = startSource(async (event) => {
      deliveries.push(bodyIds(event));
      const flaky = event.Records.find((record) => record.body.includes('"flaky"') && record.attributes.ApproximateReceiveCount === '1');
      return { batchItemFailures: flaky ? [{ itemIdentifier: flaky.messageId }] : [] };
    });
    await source.drained();

    expect(deliveries).toEqual([['ok', 'flaky'], ['flaky']]);
    expect(await queue.depth()).toEqual({ live: 0, inFlight: 0, deadLetters: 0 });
  });

  it('dead-letters a record after maxReceiveCount failed receives, without blocking others', async () => {
    const written: string[] = [];
    await queue.enqueue(messages('poison', 'good'));

    const source = startSource(async (event) => {
      const poison = event.Records.filter((record) => record.body.includes('"poison"'));
      for (const id of bodyIds(event)) if (id !== 'poison') written.push(id);
      return { batchItemFailures: poison.map((record) => ({ itemIdentifier: record.messageId })) };
    });
    await source.drained();

    expect(written).toEqual(['good']);
    const [dead, ...more] = await queue.listDeadLetters();
    expect(more).toEqual([]);
    expect(dead?.receiveCount).toBe(3);
    expect(decodeMessage(dead?.body ?? '').header.requestId).toBe('poison');
  });

  it('redelivers the whole batch when the consumer throws', async () => {
    let calls = 0;
    await queue.enqueue(messages('a', 'b'));

    const source = startSource(async () => {
      calls += 1;
      if (calls === 1) throw new Error('database down');
      return { batchItemFailures: [] };
    });
    await source.drained();

    expect(calls).toBe(2);
    expect((await queue.depth()).live).toBe(0);
  });

  it('delivers, after a restart, what an earlier process queued and never delivered', async () => {
    // Prepare: queued by a process that died before its source ran (nothing in memory survives).
    await queue.enqueue(messages('before-crash'));
    const delivered: string[] = [];

    // Act: a new queue and source on the same database, as the next start builds them.
    const reopened = await PgMessageQueue.open(testDb.db);
    const source = new QueueEventSource(reopened, async (event) => {
      delivered.push(...bodyIds(event));
      return { batchItemFailures: [] };
    }, options);
    sources.push(source);
    source.start();
    await source.drained();

    // Assess
    expect(delivered).toEqual(['before-crash']);
  });

  it('redelivers a message whose consumer died, once its visibility timeout has passed', async () => {
    await queue.enqueue(messages('in-flight'));
    const [taken] = await queue.receive(10, 50, 5);

    const delivered: SQSEvent['Records'] = [];
    const source = startSource(async (event) => {
      delivered.push(...event.Records);
      return { batchItemFailures: [] };
    });
    await source.drained();

    expect(taken?.receiveCount).toBe(1);
    expect(delivered.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['2']);
  });

  it('dead-letters a message received maxReceiveCount times by consumers that never finished', async () => {
    await queue.enqueue(messages('crashes-its-consumer'));
    for (let receive = 0; receive < options.maxReceiveCount; receive++) await queue.receive(10, 0, options.maxReceiveCount);

    expect(await queue.receive(10, 0, options.maxReceiveCount)).toEqual([]);
    const [dead] = await queue.listDeadLetters();
    expect(dead?.reason).toBe(`received ${options.maxReceiveCount} times without being deleted`);
  });

  it('deletes nothing with the receipt of an older receive', async () => {
    await queue.enqueue(messages('received-twice'));
    const [first] = await queue.receive(10, 0, 5);
    const [second] = await queue.receive(10, 0, 5);

    await queue.delete([first?.receiptHandle ?? '']);
    const afterStale = await queue.depth();
    await queue.delete([second?.receiptHandle ?? '']);

    expect(afterStale.live).toBe(1);
    expect((await queue.depth()).live).toBe(0);
  });

  it('replays dead letters onto the queue with their receive count reset', async () => {
    let failing = true;
    await queue.enqueue(messages('replayed', 'kept'));
    const source = startSource(async (event) => ({ batchItemFailures: failing ? event.Records.map((record) => ({ itemIdentifier: record.messageId })) : [] }));
    await source.drained();
    const dead = await queue.listDeadLetters();
    const replayed = dead.find((letter) => decodeMessage(letter.body).header.requestId === 'replayed');

    failing = false;
    const moved = await queue.replayDeadLetters([replayed?.messageId ?? '']);
    await source.drained();

    expect(dead).toHaveLength(2);
    expect(moved).toEqual([replayed?.messageId]);
    expect((await queue.listDeadLetters()).map((letter) => decodeMessage(letter.body).header.requestId)).toEqual(['kept']);
    expect((await queue.depth()).live).toBe(0);
  });

  it('on drainAndStop delivers what is visible without waiting for a batch to fill, then stops', async () => {
    const delivered: string[] = [];
    const source = startSource(async (event) => {
      delivered.push(...bodyIds(event));
      return { batchItemFailures: [] };
    }, { batchWindowMs: 60_000, batchSize: 10 });
    await queue.enqueue(messages('x', 'y'));

    await source.drainAndStop(5000);
    await queue.enqueue(messages('after-stop'));

    expect(delivered).toEqual(['x', 'y']);
    expect((await queue.depth()).live).toBe(1);
  });

  it('gives the space of delivered messages back once the queue is empty (PGlite has no autovacuum)', async () => {
    // Prepare: 40 messages of ~100 KB each go through, 4 MB in all.
    const source = startSource(succeed, { batchSize: 10, batchWindowMs: 0, compactAfterDeletes: 40 });
    const big = (index: number) => queueMessage(envelope([trackedEvent({ properties: { pad: 'x'.repeat(100_000) } })], { requestId: `big-${index}` }));
    const emptySize = await queue.sizeBytes();

    // Act
    for (let index = 0; index < 40; index++) await queue.enqueue([big(index)]);
    await source.drained();
    await source.drained();

    // Assess: well under the 4 MB that went through.
    expect(await queue.sizeBytes()).toBeLessThan(emptySize + 1_000_000);
  });

  it('answers enqueue only once the messages are stored', async () => {
    const result = await queue.enqueue(messages('m1', 'm2'));

    expect(result.failed).toEqual([]);
    expect((await queue.depth()).live).toBe(2);
  });

  it('reports every event of a refused enqueue as failed', async () => {
    const broken = await PgMessageQueue.open(testDb.db);
    const [message] = messages('refused');
    // A body Postgres cannot hold (a NUL character) fails the insert.
    const result = await broken.enqueue([{ body: 'x\u0000y', eventIds: message?.eventIds ?? [] }]);

    expect(result.failed.map((failure) => failure.eventId)).toEqual(message?.eventIds);
    expect((await queue.depth()).live).toBe(0);
  });
});

it('stops only once the delivery under way has finished and its messages are deleted', async () => {
  await testDb.db.query('DELETE FROM local_queue.messages');
  let release: () => void = () => undefined;
  let started: () => void = () => undefined;
  const delivering = new Promise<void>((resolve) => (started = resolve));
  const source = new QueueEventSource(queue, async () => {
    started();
    await new Promise<void>((resolve) => (release = resolve));
    return { batchItemFailures: [] };
  }, options);
  source.start();
  await queue.enqueue(messages('slow'));
  await delivering;

  const stopped = source.stop();
  const liveWhileDelivering = (await queue.depth()).live;
  release();
  await stopped;

  expect(liveWhileDelivering).toBe(1);
  expect((await queue.depth()).live).toBe(0);
});
