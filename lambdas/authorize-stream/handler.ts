import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { callerToContext } from '../shared/domain/caller.js';
import { readStreamCredential } from '../shared/domain/stream-credential.js';
import { headerValue } from '../shared/adapters/http/headers.js';
import type { TokenVerifier } from '../shared/adapters/jwt/jose-token-verifier.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { WriteKeyStore } from '../shared/ports/write-key-store.js';
import { awsTokenVerifier, awsWriteKeyStore } from '../shared/wiring/aws.js';
import { callerForToken, UNAUTHORIZED } from '../authorize/handler.js';

/** What API Gateway passes a WebSocket API's REQUEST authorizer; only the fields read here. */
export interface StreamAuthorizerEvent {
  methodArn: string;
  headers?: Record<string, string | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
}

/**
 * The WebSocket API's `$connect` authorizer (REQUEST type, no identity source: the credential
 * may be in any of three places, `domain/stream-credential.ts`), checked by the same rules as
 * the REST authorizer. A handshake using more than one place is refused here too, 401: an
 * authorizer can only allow or refuse. The scope and the filters are the `$connect` function's
 * to check, as each REST handler checks its scope.
 */
export function createAuthorizeStreamHandler(verify: TokenVerifier, writeKeys: WriteKeyStore) {
  return async (event: StreamAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const credential = readStreamCredential({
      subprotocols: headerValue(event, 'sec-websocket-protocol'),
      query: event.queryStringParameters?.['token'],
      authorization: headerValue(event, 'authorization'),
    });
    const token = 'token' in credential ? credential.token : undefined;
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
