import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler as createReadReplay } from '../../../lambdas/read-stream-replay/handler.js';
import { ManagementApiMessenger } from '../../../lambdas/shared/adapters/apigateway/management-api-messenger.js';
import { DynamoStreamConnections } from '../../../lambdas/shared/adapters/dynamodb/dynamo-stream-connections.js';
import { InvokedStreamReplay } from '../../../lambdas/shared/adapters/lambda/invoked-stream-replay.js';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { PgStreamReplay } from '../../../lambdas/shared/adapters/pg/pg-stream-replay.js';
import type { TrackedEvent } from '../../../lambdas/shared/domain/event-schemas.js';
import { RESUME_LATENESS_MS, type StreamFilter } from '../../../lambdas/shared/domain/live-stream.js';
import { createHandler } from '../../../lambdas/stream-message/handler.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent } from '../../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const management = mockClient(ApiGatewayManagementApiClient);
const dynamo = mockClient(DynamoDBClient);
const lambda = mockClient(LambdaClient);
const TABLE = 'connections';
const REPLAY_FUNCTION = 'read-stream-replay';

let testDb: TestDatabase;
let store: PgEventStore;

beforeAll(async () => {
  testDb = await createTestDatabase();
  store = new PgEventStore(testDb.db);
});

afterAll(async () => {
  await testDb.drop();
});

/** One writer delivery: its events share one `storedAt`. */
const deliver = (tenantId: string, events: TrackedEvent[]) => store.writeMessages([received(envelope(events, { tenantId }))]);

/** The `$connect` row of `c1` under tenant A; no row for any other key. */
function connectionRow(filter: StreamFilter, connectedAt: Date) {
  dynamo.on(GetItemCommand).resolves({});
  dynamo.on(GetItemCommand, { Key: { tenantId: { S: TENANT_A }, connectionId: { S: 'c1' } } }).resolves({
    Item: { tenantId: { S: TENANT_A }, connectionId: { S: 'c1' }, filter: { S: JSON.stringify(filter) }, connectedAt: { S: connectedAt.toISOString() }, expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) } },
  });
}

/** The handler as deployed: the replay is an invocation of `read-stream-replay`, here answered by that handler on the test database. */
function handler(maxEvents?: number) {
  const readReplay = createReadReplay(new PgStreamReplay(testDb.db, maxEvents));
  lambda.on(InvokeCommand, { FunctionName: REPLAY_FUNCTION }).callsFake(async (input: { Payload: Uint8Array }) => ({
    StatusCode: 200,
    Payload: Buffer.from(JSON.stringify(await readReplay(JSON.parse(Buffer.from(input.Payload).toString())))),
  }));
  return createHandler({
    connections: new DynamoStreamConnections(new DynamoDBClient({}), TABLE),
    replay: new InvokedStreamReplay(new LambdaClient({}), REPLAY_FUNCTION),
    messenger: new ManagementApiMessenger(new ApiGatewayManagementApiClient({ endpoint: 'https://stream.example/v1' })),
  });
}

const frame = (body: string, tenantId: string | null = TENANT_A, connectionId = 'c1') => ({
  requestContext: { connectionId, authorizer: tenantId ? { tenantId, subject: 'u', scopes: 'events:read' } : null },
  body,
});

const posted = () =>
  management.commandCalls(PostToConnectionCommand).map((call) => JSON.parse(Buffer.from(call.args[0].input.Data as Uint8Array).toString()) as { type: string; events?: Array<{ eventId: string }> } & Record<string, unknown>);
const replayedIds = () => posted().flatMap((message) => message.events?.map((event) => event.eventId) ?? []);
const closed = () => management.commandCalls(DeleteConnectionCommand).map((call) => call.args[0].input.ConnectionId);

beforeEach(() => {
  management.reset();
  dynamo.reset();
  lambda.reset();
  management.on(PostToConnectionCommand).resolves({});
  management.on(DeleteConnectionCommand).resolves({});
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

describe('stream-message ($default): resume', () => {
  it("replays the tenant's events stored after the given one that the connection's filter takes, in commit order, then resumed", async () => {
    const seen = trackedEvent({ type: 'ERROR' });
    const sameCommitAfter = trackedEvent({ type: 'ERROR', timestamp: new Date(Date.parse(seen.timestamp) + 1).toISOString() });
    await deliver(TENANT_A, [seen, sameCommitAfter, trackedEvent({ type: 'CUSTOM' })]);
    const otherTenant = trackedEvent({ type: 'ERROR' });
    await deliver(TENANT_B, [otherTenant]);
    const later = trackedEvent({ type: 'ERROR' });
    const last = trackedEvent({ type: 'ERROR', timestamp: new Date(Date.parse(later.timestamp) + 1).toISOString() });
    await deliver(TENANT_A, [last, trackedEvent({ type: 'CUSTOM' }), later]);
    connectionRow({ types: ['ERROR'] }, new Date());

    await handler()(frame(JSON.stringify({ action: 'resume', after: seen.eventId })));

    expect(replayedIds()).toEqual([sameCommitAfter.eventId, later.eventId, last.eventId]);
    expect(replayedIds()).not.toContain(otherTenant.eventId);
    expect(posted().at(-1)).toEqual({ type: 'resumed', after: seen.eventId, replayed: 3, complete: true });
    // The replay was asked for the row's tenant and filter.
    expect(JSON.parse(Buffer.from(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array).toString())).toMatchObject({ tenantId: TENANT_A, after: seen.eventId, filter: { types: ['ERROR'] } });
    expect(closed()).toEqual([]);
  });

  it('applies property filters, and leaves out what was stored after the connection opened (sent live) and late events', async () => {
    const seen = trackedEvent();
    await deliver(TENANT_A, [seen]);
    const late = trackedEvent({ properties: { plan: 'pro' }, timestamp: new Date(Date.now() - RESUME_LATENESS_MS - 60_000).toISOString() });
    const missed = trackedEvent({ properties: { plan: 'pro', seats: 3 } });
    await deliver(TENANT_A, [late, missed, trackedEvent({ properties: { plan: 'free' } })]);
    const connectedAt = new Date();
    // Past the overlap the $connect row allows for: these the connection was sent live.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await deliver(TENANT_A, [trackedEvent({ properties: { plan: 'pro' } })]);
    connectionRow({ properties: { plan: 'pro' } }, connectedAt);

    await handler()(frame(JSON.stringify({ action: 'resume', after: seen.eventId })));

    expect(replayedIds()).toEqual([missed.eventId]);
    expect(posted().at(-1)).toEqual({ type: 'resumed', after: seen.eventId, replayed: 1, complete: true });
  });

  it("says incomplete and sends nothing for another tenant's event, an unknown one, or more missed than a replay carries", async () => {
    const foreign = trackedEvent();
    await deliver(TENANT_B, [foreign]);
    const seen = trackedEvent();
    await deliver(TENANT_A, [seen]);
    await deliver(TENANT_A, [trackedEvent(), trackedEvent(), trackedEvent()]);
    connectionRow({}, new Date());
    const resume = handler(2);

    for (const after of [foreign.eventId, crypto.randomUUID(), seen.eventId]) {
      management.resetHistory();
      await resume(frame(JSON.stringify({ action: 'resume', after })));
      expect(posted()).toEqual([{ type: 'resumed', after, replayed: 0, complete: false }]);
    }
  });

  it('takes the tenant from the connection row: a connection without one is refused and closed, and nothing is read', async () => {
    connectionRow({}, new Date());
    const after = crypto.randomUUID();

    await handler()(frame(JSON.stringify({ action: 'resume', after }), TENANT_B));

    expect(posted()).toEqual([{ type: 'error', code: 4401, reason: 'unknown connection: reconnect' }]);
    expect(closed()).toEqual(['c1']);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('stops at a connection API Gateway no longer has (GoneException)', async () => {
    const seen = trackedEvent();
    await deliver(TENANT_A, [seen]);
    await deliver(TENANT_A, Array.from({ length: 30 }, () => trackedEvent({ properties: { padding: 'x'.repeat(2_000) } })));
    connectionRow({}, new Date());
    management.on(PostToConnectionCommand).rejects(new GoneException({ message: 'gone', $metadata: {} }));

    await expect(handler()(frame(JSON.stringify({ action: 'resume', after: seen.eventId })))).resolves.toEqual({ statusCode: 200 });

    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(1);
  });
});

describe('stream-message ($default): other frames', () => {
  it('refuses a malformed frame with an error message and closes the connection', async () => {
    for (const body of ['nope', '{"action":"subscribe"}', '{"action":"resume","after":"not-an-id"}', '{"action":"resume"}', '']) {
      management.resetHistory();
      await handler()(frame(body));
      expect(posted()).toEqual([{ type: 'error', code: 4400, reason: expect.stringMatching(/^malformed frame/) }]);
      expect(closed()).toEqual(['c1']);
    }
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('answers a ping that reaches it with pong', async () => {
    await handler()(frame('{"action":"ping"}'));
    expect(posted()).toEqual([{ type: 'pong' }]);
    expect(closed()).toEqual([]);
  });
});

describe('read-stream-replay', () => {
  it('answers a replay too large for a synchronous invocation as incomplete, and refuses a request that is not a replay', async () => {
    const large = { ...trackedEvent({ properties: { padding: 'x'.repeat(30_000) } }), storedAt: new Date().toISOString() };
    const read = createReadReplay({ eventsStoredAfter: async () => ({ events: Array.from({ length: 200 }, () => large), complete: true }) });
    const request = { tenantId: TENANT_A, after: crypto.randomUUID(), until: new Date().toISOString(), filter: {} };

    await expect(read(request)).resolves.toEqual({ events: [], complete: false });
    await expect(read({ ...request, tenantId: 'nope' })).rejects.toThrow();
  });
});
