import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StreamFilter } from '../../domain/live-stream.js';
import type { StreamConnection, StreamConnections } from '../../ports/stream-connections.js';
import { STREAM_CONNECTIONS_TTL_ATTRIBUTE } from './tables.js';

/** API Gateway's longest WebSocket connection, plus a margin: the row outlives any real socket. */
const CONNECTION_TTL_SECONDS = 2 * 3600 + 600;

function fromItem(item: Record<string, AttributeValue>): StreamConnection | undefined {
  const tenantId = item['tenantId']?.S;
  const connectionId = item['connectionId']?.S;
  if (!tenantId || !connectionId) return undefined;
  return { tenantId, connectionId, filter: JSON.parse(item['filter']?.S ?? '{}') as StreamFilter, connectedAt: item['connectedAt']?.S ?? '' };
}

export class DynamoStreamConnections implements StreamConnections {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async add(connection: StreamConnection): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          tenantId: { S: connection.tenantId },
          connectionId: { S: connection.connectionId },
          // The filter was validated at $connect; the writer only matches against it.
          filter: { S: JSON.stringify(connection.filter) },
          connectedAt: { S: connection.connectedAt },
          [STREAM_CONNECTIONS_TTL_ATTRIBUTE]: { N: String(this.nowSeconds() + CONNECTION_TTL_SECONDS) },
        },
      }),
    );
  }

  async remove(tenantId: string, connectionId: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { tenantId: { S: tenantId }, connectionId: { S: connectionId } } }));
  }

  async find(tenantId: string, connectionId: string): Promise<StreamConnection | undefined> {
    // Consistent: a resume may come within milliseconds of the $connect that wrote the row.
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { tenantId: { S: tenantId }, connectionId: { S: connectionId } }, ConsistentRead: true }),
    );
    if (!Item || Number(Item[STREAM_CONNECTIONS_TTL_ATTRIBUTE]?.N ?? 0) <= this.nowSeconds()) return undefined;
    return fromItem(Item);
  }

  async ofTenant(tenantId: string): Promise<StreamConnection[]> {
    const connections: StreamConnection[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'tenantId = :tenant',
          // TTL deletes lag by up to days: an expired row is no connection.
          FilterExpression: '#expires > :now',
          ExpressionAttributeNames: { '#expires': STREAM_CONNECTIONS_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':tenant': { S: tenantId }, ':now': { N: String(this.nowSeconds()) } },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const connection = fromItem(item);
        if (connection) connections.push(connection);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return connections;
  }
}
