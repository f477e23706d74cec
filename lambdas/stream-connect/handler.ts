import { callerFromContext } from '../shared/domain/caller.js';
import { isRefusal, readSubscription, STREAM_CLOSE } from '../shared/domain/live-stream.js';
import { STREAM_SUBPROTOCOL } from '../shared/domain/stream-credential.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { log } from '../shared/logger.js';
import type { StreamConnections } from '../shared/ports/stream-connections.js';
import { awsStreamConnections } from '../shared/wiring/aws.js';

/** What API Gateway passes a WebSocket route's Lambda; only the fields read here. */
export interface WebSocketRouteEvent {
  requestContext: { connectionId: string; authorizer?: Record<string, unknown> | null };
  queryStringParameters?: Record<string, string | undefined> | null;
}

export interface WebSocketRouteResult {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
}

/** A refusal at `$connect` is an HTTP status on the handshake: API Gateway cannot close with 4xxx before the socket exists. */
const HTTP_STATUS = { [STREAM_CLOSE.badRequest]: 400, [STREAM_CLOSE.unauthorized]: 401, [STREAM_CLOSE.forbidden]: 403 };

/**
 * `$connect`: the caller the authorizer established, its scope and filters checked by the same
 * rules as the local stream, then one row in the connections table under its tenant. The
 * answer selects the `bearer` subprotocol, never the token offered beside it: a browser fails
 * a connection whose answer selects none of the subprotocols it offered.
 */
export function createHandler(connections: StreamConnections, now: () => Date = () => new Date()) {
  return async (event: WebSocketRouteEvent): Promise<WebSocketRouteResult> => {
    const caller = callerFromContext(event.requestContext.authorizer);
    if (!caller) return { statusCode: 401, body: 'missing or invalid credential' };
    const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const subscription = readSubscription(query, caller);
    if (isRefusal(subscription)) {
      log('info', 'stream subscriber refused', { code: subscription.code, reason: subscription.reason });
      return { statusCode: HTTP_STATUS[subscription.code], body: subscription.reason };
    }
    await connections.add({ tenantId: caller.tenantId, connectionId: event.requestContext.connectionId, filter: subscription.filter, connectedAt: now().toISOString() });
    return { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': STREAM_SUBPROTOCOL } };
  };
}

export const handler = lazyHandler(async () => createHandler(awsStreamConnections()));
