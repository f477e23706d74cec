import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { frameEvents, matchesFilter } from '../../domain/live-stream.js';
import { describeError, log } from '../../logger.js';
import type { StoredEventBatch, StoredEventPublisher } from '../../ports/stored-event-publisher.js';
import type { StreamConnection, StreamConnections } from '../../ports/stream-connections.js';
import { ManagementApiMessenger } from './management-api-messenger.js';

/** Posts in flight at once, so one delivery to many sockets takes a few round trips, not one each. */
const POSTS_IN_FLIGHT = 16;

/**
 * The deployed stream: the writer posts each subscriber's frames through the WebSocket API's
 * management endpoint after its commit. A connection API Gateway no longer has (GoneException)
 * is removed from the table; any other failure loses that frame for that subscriber only.
 */
export class WebSocketStreamPublisher implements StoredEventPublisher {
  /** The connections looked up for the delivery under way, reused by its publish. */
  private looked = new Map<string, StreamConnection[]>();
  private readonly messenger: ManagementApiMessenger;

  constructor(
    private readonly connections: StreamConnections,
    client: ApiGatewayManagementApiClient,
  ) {
    this.messenger = new ManagementApiMessenger(client);
  }

  async subscribedTenants(tenantIds: readonly string[]): Promise<ReadonlySet<string>> {
    const found = await Promise.all(tenantIds.map(async (tenantId) => [tenantId, await this.connections.ofTenant(tenantId)] as const));
    this.looked = new Map(found.filter(([, connections]) => connections.length > 0));
    return new Set(this.looked.keys());
  }

  async publish(batches: readonly StoredEventBatch[]): Promise<void> {
    const posts: Array<{ connection: StreamConnection; frame: string }> = [];
    for (const { tenantId, events } of batches) {
      const connections = this.looked.get(tenantId) ?? (await this.connections.ofTenant(tenantId));
      const json = new Map(events.map((event) => [event, JSON.stringify(event)]));
      for (const connection of connections) {
        const matching = events.filter((event) => matchesFilter(event, connection.filter));
        for (const frame of frameEvents(matching, undefined, (event) => json.get(event) ?? JSON.stringify(event))) posts.push({ connection, frame });
      }
    }
    const gone = new Set<StreamConnection>();
    let next = 0;
    const worker = async () => {
      while (next < posts.length) {
        const post = posts[next++];
        if (!post || gone.has(post.connection)) continue;
        await this.post(post.connection, post.frame, gone);
      }
    };
    await Promise.all(Array.from({ length: Math.min(POSTS_IN_FLIGHT, posts.length) }, worker));
  }

  private async post(connection: StreamConnection, frame: string, gone: Set<StreamConnection>): Promise<void> {
    const outcome = await this.messenger.post(connection.connectionId, frame).then(
      (posted) => (posted ? 'posted' : 'gone'),
      (error: unknown) => {
        log('warn', 'stream frame not posted', { connectionId: connection.connectionId, ...describeError(error) });
        return 'failed';
      },
    );
    // Posts in flight to the same connection all come back gone: its row is removed once.
    if (outcome !== 'gone' || gone.has(connection)) return;
    gone.add(connection);
    await this.connections.remove(connection.tenantId, connection.connectionId).catch((removeError: unknown) => log('warn', 'gone stream connection not removed', { connectionId: connection.connectionId, ...describeError(removeError) }));
  }
}
