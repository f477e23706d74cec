import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { WebSocketStreamPublisher } from '../../../../../lambdas/shared/adapters/apigateway/websocket-stream-publisher.js';
import { DynamoStreamConnections } from '../../../../../lambdas/shared/adapters/dynamodb/dynamo-stream-connections.js';
import type { StoredEvent } from '../../../../../lambdas/shared/domain/answer-schemas.js';
import { TENANT_A, TENANT_B } from '../../../../support/factories.js';

const management = mockClient(ApiGatewayManagementApiClient);
const dynamo = mockClient(DynamoDBClient);
const TABLE = 'connections';
const NOW = 1_800_000_000;

const stored = (overrides: Partial<StoredEvent> = {}): StoredEvent => ({
  eventId: crypto.randomUUID(), timestamp: '2026-01-01T00:00:00.000Z', type: 'CUSTOM', category: 'c', action: 'a', label: null, value: null,
  userId: null, sessionId: null, properties: {}, context: {}, metadata: {}, receivedAt: '2026-01-01T00:00:00.000Z', storedAt: '2026-01-01T00:00:00.100Z',
  ...overrides,
});

const row = (tenantId: string, connectionId: string, filter: object = {}) => ({
  tenantId: { S: tenantId }, connectionId: { S: connectionId }, filter: { S: JSON.stringify(filter) }, connectedAt: { S: '2026-01-01T00:00:00.000Z' }, expiresAt: { N: String(NOW + 100) },
});

function publisher(): WebSocketStreamPublisher {
  return new WebSocketStreamPublisher(new DynamoStreamConnections(new DynamoDBClient({}), TABLE, () => NOW), new ApiGatewayManagementApiClient({ endpoint: 'https://stream.example/v1' }));
}

const posted = () => management.commandCalls(PostToConnectionCommand).map((call) => ({ to: call.args[0].input.ConnectionId, message: JSON.parse(Buffer.from(call.args[0].input.Data as Uint8Array).toString()) as { type: string; events?: StoredEvent[] } }));

beforeEach(() => {
  management.reset();
  dynamo.reset();
  dynamo.on(QueryCommand, { ExpressionAttributeValues: { ':tenant': { S: TENANT_A }, ':now': { N: String(NOW) } } }).resolves({ Items: [row(TENANT_A, 'a-all'), row(TENANT_A, 'a-errors', { types: ['ERROR'] })] });
  dynamo.on(QueryCommand, { ExpressionAttributeValues: { ':tenant': { S: TENANT_B }, ':now': { N: String(NOW) } } }).resolves({ Items: [] });
  dynamo.on(DeleteItemCommand).resolves({});
});

describe('WebSocketStreamPublisher', () => {
  it('names the tenants with connections, and posts each connection the events its filter takes', async () => {
    const stream = publisher();
    expect([...(await stream.subscribedTenants([TENANT_A, TENANT_B]))]).toEqual([TENANT_A]);
    management.on(PostToConnectionCommand).resolves({});
    const custom = stored();
    const error = stored({ type: 'ERROR' });

    await stream.publish([{ tenantId: TENANT_A, events: [custom, error] }]);

    expect(posted()).toEqual([
      { to: 'a-all', message: { type: 'events', events: [custom, error] } },
      { to: 'a-errors', message: { type: 'events', events: [error] } },
    ]);
  });

  it('removes a connection API Gateway no longer has (GoneException) and stops posting to it', async () => {
    const stream = publisher();
    await stream.subscribedTenants([TENANT_A]);
    management.on(PostToConnectionCommand, { ConnectionId: 'a-all' }).rejects(new GoneException({ message: 'gone', $metadata: {} }));
    management.on(PostToConnectionCommand, { ConnectionId: 'a-errors' }).resolves({});
    const many = Array.from({ length: 40 }, () => stored({ type: 'ERROR', properties: { padding: 'x'.repeat(2000) } }));

    await stream.publish([{ tenantId: TENANT_A, events: many }]);

    expect(dynamo.commandCalls(DeleteItemCommand).map((call) => call.args[0].input)).toEqual([{ TableName: TABLE, Key: { tenantId: { S: TENANT_A }, connectionId: { S: 'a-all' } } }]);
    // Every frame of the live one went out; the gone one was tried no more than the posts in flight.
    const frames = posted().filter((post) => post.to === 'a-errors');
    expect(frames.flatMap((post) => post.message.events ?? [])).toHaveLength(40);
    expect(posted().filter((post) => post.to === 'a-all').length).toBeLessThan(frames.length + 16);
  });

  it('loses a frame to another failure without throwing, and keeps the connection', async () => {
    const stream = publisher();
    await stream.subscribedTenants([TENANT_A]);
    management.on(PostToConnectionCommand).rejects(new Error('throttled'));

    await expect(stream.publish([{ tenantId: TENANT_A, events: [stored({ type: 'ERROR' })] }])).resolves.toBeUndefined();
    expect(dynamo.commandCalls(DeleteItemCommand)).toHaveLength(0);
  });
});
