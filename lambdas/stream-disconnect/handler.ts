import { callerFromContext } from '../shared/domain/caller.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { StreamConnections } from '../shared/ports/stream-connections.js';
import { awsStreamConnections } from '../shared/wiring/aws.js';
import type { WebSocketRouteEvent, WebSocketRouteResult } from '../stream-connect/handler.js';

/** `$disconnect`: API Gateway passes the `$connect` authorizer's context, so the row's tenant is known. */
export function createHandler(connections: StreamConnections) {
  return async (event: WebSocketRouteEvent): Promise<WebSocketRouteResult> => {
    const caller = callerFromContext(event.requestContext.authorizer);
    if (caller) await connections.remove(caller.tenantId, event.requestContext.connectionId);
    return { statusCode: 200 };
  };
}

export const handler = lazyHandler(async () => createHandler(awsStreamConnections()));
