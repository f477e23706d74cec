import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { callerToContext } from '../shared/domain/caller.js';
import { tokenOfSubprotocols } from '../shared/domain/stream-credential.js';
import type { TokenVerifier } from '../shared/adapters/jwt/jose-token-verifier.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { WriteKeyStore } from '../shared/ports/write-key-store.js';
import { awsTokenVerifier, awsWriteKeyStore } from '../shared/wiring/aws.js';
import { callerForToken, UNAUTHORIZED } from '../authorize/handler.js';

/** What API Gateway passes a WebSocket API's REQUEST authorizer; only the fields read here. */
export interface StreamAuthorizerEvent {
  methodArn: string;
  headers?: Record<string, string | undefined> | null;
}

/**
 * The WebSocket API's `$connect` authorizer (REQUEST type): the credential is the token the
 * client offers as a subprotocol beside `bearer` (`domain/stream-credential.ts`), checked by the
 * same rules as the REST authorizer. Its identity source is that header, so API Gateway answers
 * 401 to a handshake without one before calling this. The scope and the filters are the
 * `$connect` function's to check, as each REST handler checks its scope.
 */
export function createAuthorizeStreamHandler(verify: TokenVerifier, writeKeys: WriteKeyStore) {
  return async (event: StreamAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    // Header names arrive as the client spelled them.
    const offered = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1];
    const token = tokenOfSubprotocols(offered);
    const caller = token ? await callerForToken(token, verify, writeKeys) : undefined;
    if (!caller) throw new Error(UNAUTHORIZED);
    return {
      principalId: caller.subject,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
      context: callerToContext(caller),
    };
  };
}

export const handler = lazyHandler(async () => createAuthorizeStreamHandler(awsTokenVerifier(), awsWriteKeyStore()));
