import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { callerToContext } from '../shared/domain/caller.js';
import type { TokenVerifier } from '../shared/adapters/jwt/jose-token-verifier.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { WriteKeyStore } from '../shared/ports/write-key-store.js';
import { awsTokenVerifier, awsWriteKeyStore } from '../shared/wiring/aws.js';
import { callerForToken, UNAUTHORIZED } from '../authorize/handler.js';

/**
 * The WebSocket API's `$connect` authorizer (REQUEST type, no identity source, so no cache): the
 * credential as `?token=` (browsers cannot set headers on a WebSocket) or an Authorization
 * header, checked by the same rules as the REST authorizer. The scope and the filters are the
 * `$connect` function's to check, as each REST handler checks its scope.
 */
export function createAuthorizeStreamHandler(verify: TokenVerifier, writeKeys: WriteKeyStore) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const header = event.headers?.['Authorization'] ?? event.headers?.['authorization'];
    const token = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : event.queryStringParameters?.['token'];
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
