import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../../lambdas/fan-out-stored-events/handler.js';
import { ManagementApiMessenger } from '../../../lambdas/shared/adapters/apigateway/management-api-messenger.js';
import { DynamoStreamConnections } from '../../../lambdas/shared/adapters/dynamodb/dynamo-stream-connections.js';
import { DynamoStreamOutbox, outboxItems } from '../../../lambdas/shared/adapters/dynamodb/dynamo-stream-outbox.js';
import { streamConnectionsTableDefinition, streamOutboxTableDefinition } from '../../../lambdas/shared/adapters/dynamodb/tables.js';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import type { StoredEvent } from '../../../lambdas/shared/domain/answer-schemas.js';
import { MAX_STREAM_FRAME_BYTES, type StreamFilter } from '../../../lambdas/shared/domain/live-stream.js';
import { streamedEventOf } from '../../../lambdas/shared/domain/streamed-events.js';
import { writeQueuedEvents } from '../../../lambdas/shared/use-cases/write-queued-events.js';
import { startTestDynamo, type TestDynamo } from '../../support/embedded-dynamo.js';
import { envelope, messageBody, storedEvent, trackedEvent } from '../../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';
import { streamEvent, streamRecord } from '../../support/stream-outbox.js';

const management = mockClient(ApiGatewayManagementApiClient);
const CONNECTIONS = 'fan-out-connections-test';
const OUTBOX = 'fan-out-outbox-test';
const NOW = Math.floor(Date.now() / 1000);
let dynamo: TestDynamo;
let connections: DynamoStreamConnections;
let testDb: TestDatabase;

beforeAll(async () => {
  dynamo = await startTestDynamo([streamConnectionsTableDefinition(CONNECTIONS), streamOutboxTableDefinition(OUTBOX)]);
  connections = new DynamoStreamConnections(dynamo.client, CONNECTIONS, () => NOW);
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await dynamo.stop();
  await testDb.drop();
});
beforeEach(() => {
  management.reset();
  management.on(PostToConnectionCommand).resolves({});
});

/** Fresh tenants per test: the table is shared by the file. */
async function tenantWith(filters: Record<string, StreamFilter>): Promise<string> {
  const tenantId = crypto.randomUUID();
  for (const [connectionId, filter] of Object.entries(filters)) await connections.add({ tenantId, connectionId: `${tenantId}:${connectionId}`, filter, connectedAt: new Date().toISOString() });
  return tenantId;
}

const handler = () => createHandler({ connections, messenger: new ManagementApiMessenger(new ApiGatewayManagementApiClient({ endpoint: 'https://stream.example/v1' })) });
/** The stream event of what the writer put into the outbox for these batches. */
const fromOutbox = (...batches: Array<{ tenantId: string; events: StoredEvent[] }>) =>
  streamEvent(batches.flatMap(({ tenantId, events }) => outboxItems({ tenantId, events: events.map(streamedEventOf) }, NOW)).map((item) => streamRecord(item)));

const posts = () =>
  management.commandCalls(PostToConnectionCommand).map((call) => {
    const data = Buffer.from(call.args[0].input.Data as Uint8Array);
    return { to: call.args[0].input.ConnectionId ?? '', bytes: data.byteLength, message: JSON.parse(data.toString()) as { type: string; events?: StoredEvent[]; eventId?: string } };
  });
const eventsTo = (connectionId: string) => posts().filter((post) => post.to === connectionId).flatMap((post) => post.message.events ?? []);

describe('fan-out-stored-events', () => {
  it("posts each connection the events its filter takes, and never one tenant's events to another", async () => {
    const a = await tenantWith({ all: {}, errors: { types: ['ERROR'] }, checkout: { categories: ['checkout'], properties: { plan: { tier: 'pro' } } } });
    const b = await tenantWith({ all: {} });
    const custom = storedEvent();
    const error = storedEvent({ type: 'ERROR' });
    const pro = storedEvent({ category: 'checkout', properties: { plan: { tier: 'pro', seats: 3 } } });
    const free = storedEvent({ category: 'checkout', properties: { plan: { tier: 'free' } } });
    const ofB = storedEvent({ type: 'ERROR' });

    await handler()(fromOutbox({ tenantId: a, events: [custom, error, pro, free] }, { tenantId: b, events: [ofB] }));

    expect(eventsTo(`${a}:all`)).toEqual([custom, error, pro, free]);
    expect(eventsTo(`${a}:errors`)).toEqual([error]);
    expect(eventsTo(`${a}:checkout`)).toEqual([pro]);
    expect(eventsTo(`${b}:all`)).toEqual([ofB]);
    expect(posts().map((post) => post.to).sort()).toEqual([`${a}:all`, `${a}:checkout`, `${a}:errors`, `${b}:all`].sort());
  });

  it("sends a tenant's chunks of one invocation in order, in frames under 32 KB, and points to an event too large for one", async () => {
    const a = await tenantWith({ all: {} });
    const events = Array.from({ length: 50 }, (_, index) => storedEvent({ properties: { index, padding: 'x'.repeat(15_000) } }));
    const huge = storedEvent({ properties: { padding: 'x'.repeat(40_000) } });

    await handler()(fromOutbox({ tenantId: a, events: [...events.slice(0, 30), huge] }, { tenantId: a, events: events.slice(30) }));

    const sent = posts();
    for (const post of sent) expect(post.bytes).toBeLessThanOrEqual(MAX_STREAM_FRAME_BYTES);
    expect(sent.length).toBeGreaterThan(20);
    expect(eventsTo(`${a}:all`)).toEqual(events);
    expect(sent.filter((post) => post.message.type === 'event-too-large').map((post) => post.message.eventId)).toEqual([huge.eventId]);
  });

  it('removes a connection API Gateway no longer has (GoneException) and keeps posting to the others', async () => {
    const a = await tenantWith({ gone: {}, live: {} });
    management.on(PostToConnectionCommand, { ConnectionId: `${a}:gone` }).rejects(new GoneException({ message: 'gone', $metadata: {} }));
    const many = Array.from({ length: 40 }, () => storedEvent({ properties: { padding: 'x'.repeat(2000) } }));

    await handler()(fromOutbox({ tenantId: a, events: many }));

    expect((await connections.ofTenant(a)).map((connection) => connection.connectionId)).toEqual([`${a}:live`]);
    expect(eventsTo(`${a}:live`)).toEqual(many);
  });

  it('loses a frame to another failure without throwing, and keeps the connection', async () => {
    const a = await tenantWith({ throttled: {} });
    management.on(PostToConnectionCommand).rejects(new Error('throttled'));

    await expect(handler()(fromOutbox({ tenantId: a, events: [storedEvent()] }))).resolves.toBeUndefined();
    expect(await connections.ofTenant(a)).toHaveLength(1);
  });

  it('skips a record that is not a new outbox item (a TTL delete) or cannot be read, and posts the rest', async () => {
    const a = await tenantWith({ all: {} });
    const event = storedEvent();
    const [item] = outboxItems({ tenantId: a, events: [streamedEventOf(event)] }, NOW);
    if (!item) throw new Error('no outbox item');
    const unreadable = { ...item, events: { B: Buffer.from('[{') } };

    await handler()(streamEvent([streamRecord(item, 'REMOVE'), streamRecord(unreadable), streamRecord(item)]));

    expect(posts()).toEqual([{ to: `${a}:all`, bytes: expect.any(Number), message: { type: 'events', events: [event] } }]);
  });

  it("carries what the writer stored, from its commit through the outbox to the tenant's sockets, and a redelivery adds nothing", async () => {
    const a = await tenantWith({ all: {} });
    const store = new PgEventStore(testDb.db);
    const outbox = new DynamoStreamOutbox(connections, dynamo.client, OUTBOX, () => NOW);
    const body = messageBody(envelope([trackedEvent(), trackedEvent({ type: 'ERROR' })], { tenantId: a }));
    const outboxEvent = async () => {
      const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: OUTBOX }));
      return streamEvent(Items.filter((item) => item['tenantId']?.S === a).map((item) => streamRecord(item)));
    };

    await writeQueuedEvents(store, [{ messageId: 'm1', body }], outbox);
    await handler()(await outboxEvent());
    await writeQueuedEvents(store, [{ messageId: 'm1', body }], outbox);

    const sent = eventsTo(`${a}:all`);
    expect(sent).toHaveLength(2);
    for (const event of sent) expect(await store.findEvent(a, event.eventId)).toEqual(event);
    expect((await outboxEvent()).Records).toHaveLength(1);
  });
});
