import { callerFromContext } from '../shared/domain/caller.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { answerStreamFrame, type StreamFrameDeps } from '../shared/use-cases/answer-stream-frame.js';
import { awsStreamFrameDeps } from '../shared/wiring/aws.js';
import type { WebSocketRouteEvent, WebSocketRouteResult } from '../stream-connect/handler.js';

export interface WebSocketMessageEvent extends WebSocketRouteEvent {
  body?: string | null;
}

/**
 * The WebSocket API's `$default` route: every client frame but `{"action":"ping"}`, which the
 * `ping` route answers without a function. A resume is answered, anything else refused and the
 * connection closed. Outside the VPC, so that it reaches the management endpoint; its read of
 * Postgres is a call to `read-stream-replay`.
 */
export function createHandler(deps: StreamFrameDeps) {
  return async (event: WebSocketMessageEvent): Promise<WebSocketRouteResult> => {
    const tenantId = callerFromContext(event.requestContext.authorizer)?.tenantId;
    await answerStreamFrame(deps, { connectionId: event.requestContext.connectionId, tenantId }, event.body ?? '');
    return { statusCode: 200 };
  };
}

export const handler = lazyHandler(async () => createHandler(awsStreamFrameDeps()));
