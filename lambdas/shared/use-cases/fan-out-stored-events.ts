import { eventsOfFilter, filterKey, frameEvents } from '../domain/live-stream.js';
import { describeError, log } from '../logger.js';
import type { StreamedEventBatch } from '../ports/stored-event-publisher.js';
import type { ConnectionMessenger, StreamConnection, StreamConnections } from '../ports/stream-connections.js';

/** Posts in flight at once, so one delivery to many sockets takes a few round trips, not one each. */
const POSTS_IN_FLIGHT = 16;

export interface FanOutDeps {
  connections: StreamConnections;
  messenger: ConnectionMessenger;
}

export interface FanOutOutcome {
  posted: number;
  gone: number;
  failed: number;
}

/**
 * The deployed stream's fan-out, outside the VPC: each tenant's stored events go to that
 * tenant's connections, each connection the frames its filter takes (under 32 KB each).
 * 1. Look up each tenant's connections; a lookup that fails loses that tenant's events alone.
 * 2. Filter and frame the events once per distinct filter among them.
 * 3. Post the frames, 16 in flight. A connection API Gateway no longer has (GoneException) is
 *    removed from the table once and posted nothing more; any other failure loses that frame for
 *    that subscriber only. Nothing here throws: the stream is best effort.
 */
export async function fanOutStoredEvents(deps: FanOutDeps, batches: readonly StreamedEventBatch[]): Promise<FanOutOutcome> {
  const outcome: FanOutOutcome = { posted: 0, gone: 0, failed: 0 };
  const posts: Array<{ connection: StreamConnection; frame: string }> = [];
  for (const { tenantId, events } of batches) {
    const connections = await deps.connections.ofTenant(tenantId).catch((error: unknown) => {
      log('warn', 'stream connections not read; the events are lost to the stream', { tenantId, events: events.length, ...describeError(error) });
      return [];
    });
    // Filtered and framed once per distinct filter: most of a tenant's connections share one.
    const framesByFilter = new Map<string, string[]>();
    for (const connection of connections) {
      const key = filterKey(connection.filter);
      let frames = framesByFilter.get(key);
      if (!frames) {
        frames = frameEvents(eventsOfFilter(events, connection.filter));
        framesByFilter.set(key, frames);
      }
      for (const frame of frames) posts.push({ connection, frame });
    }
  }
  const gone = new Set<StreamConnection>();
  let next = 0;
  const worker = async () => {
    while (next < posts.length) {
      const post = posts[next++];
      if (!post || gone.has(post.connection)) continue;
      await postFrame(deps, post.connection, post.frame, gone, outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(POSTS_IN_FLIGHT, posts.length) }, worker));
  return outcome;
}

async function postFrame(deps: FanOutDeps, connection: StreamConnection, frame: string, gone: Set<StreamConnection>, outcome: FanOutOutcome): Promise<void> {
  const result = await deps.messenger.post(connection.connectionId, frame).then(
    (posted) => (posted ? 'posted' : 'gone'),
    (error: unknown) => {
      log('warn', 'stream frame not posted', { connectionId: connection.connectionId, ...describeError(error) });
      return 'failed';
    },
  );
  if (result === 'posted') outcome.posted += 1;
  if (result === 'failed') outcome.failed += 1;
  // Posts in flight to the same connection all come back gone: its row is removed once.
  if (result !== 'gone' || gone.has(connection)) return;
  gone.add(connection);
  outcome.gone += 1;
  await deps.connections
    .remove(connection.tenantId, connection.connectionId)
    .catch((removeError: unknown) => log('warn', 'gone stream connection not removed', { connectionId: connection.connectionId, ...describeError(removeError) }));
}
