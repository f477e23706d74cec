import { frameEvents, isRefusal, readClientFrame, RESUME_CONNECT_OVERLAP_MS, STREAM_CLOSE, type StreamMessage, type StreamRefusal } from '../domain/live-stream.js';
import { streamedEventOf } from '../domain/streamed-events.js';
import { log } from '../logger.js';
import type { ConnectionMessenger, StreamConnections } from '../ports/stream-connections.js';
import type { StreamReplaySource } from '../ports/stream-replay.js';

export interface StreamFrameDeps {
  connections: StreamConnections;
  replay: StreamReplaySource;
  messenger: ConnectionMessenger;
}

/** Where a frame came from: the connection, and the tenant the `$connect` authorizer gave it. */
export interface FrameOrigin {
  connectionId: string;
  tenantId: string | undefined;
}

const message = (value: StreamMessage) => JSON.stringify(value);

/** API Gateway closes with a code of its own: the reason goes first, as a message. */
async function refuse(messenger: ConnectionMessenger, connectionId: string, refusal: StreamRefusal): Promise<void> {
  log('info', 'stream frame refused', { code: refusal.code, reason: refusal.reason });
  await messenger.post(connectionId, message({ type: 'error', code: refusal.code, reason: refusal.reason }));
  await messenger.close(connectionId);
}

/**
 * A client frame on the deployed stream that API Gateway's `ping` route did not answer:
 * 1. read it by the protocol's rules; a malformed one is refused and the connection closed;
 * 2. a resume takes the tenant and the filter from the connection's row, never from the frame;
 * 3. the missed events are posted in order, in frames under 32 KB, then `resumed`.
 * A connection gone meanwhile ends it quietly.
 */
export async function answerStreamFrame(deps: StreamFrameDeps, origin: FrameOrigin, body: string): Promise<void> {
  const { connections, replay, messenger } = deps;
  const frame = readClientFrame(body);
  if (isRefusal(frame)) return refuse(messenger, origin.connectionId, frame);
  if (frame.action === 'ping') {
    await messenger.post(origin.connectionId, message({ type: 'pong' }));
    return;
  }

  const connection = origin.tenantId === undefined ? undefined : await connections.find(origin.tenantId, origin.connectionId);
  if (!connection) return refuse(messenger, origin.connectionId, { code: STREAM_CLOSE.unauthorized, reason: 'unknown connection: reconnect' });
  const until = new Date(Date.parse(connection.connectedAt) + RESUME_CONNECT_OVERLAP_MS).toISOString();
  const { events, complete } = await replay.eventsStoredAfter({ tenantId: connection.tenantId, after: frame.after, until, filter: connection.filter });
  // In order, one at a time: posts in flight to one connection may arrive in any order.
  for (const eventsFrame of frameEvents(events.map(streamedEventOf))) {
    if (!(await messenger.post(connection.connectionId, eventsFrame))) return;
  }
  await messenger.post(connection.connectionId, message({ type: 'resumed', after: frame.after, replayed: events.length, complete }));
}
