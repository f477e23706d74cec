import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { callerFromClaims, callerToContext, type Caller } from '../shared/domain/caller.js';
import { isWriteKey } from '../shared/domain/write-keys.js';
import type { TokenVerifier } from '../shared/adapters/jwt/jose-token-verifier.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { WriteKeyStore } from '../shared/ports/write-key-store.js';
import { authenticateWriteKey } from '../shared/use-cases/manage-write-keys.js';
import { awsTokenVerifier, awsWriteKeyStore } from '../shared/wiring/aws.js';

/** API Gateway answers 401 when a TOKEN authorizer throws exactly this message. */
export const UNAUTHORIZED = 'Unauthorized';

/** The policy covers the whole stage so that one cached answer serves every route. */
function stageWildcard(methodArn: string): string {
  // arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path}
  const [apiArn, stage] = methodArn.split('/');
  return `${apiArn}/${stage}/*`;
}

/** A bearer credential is either a write key (`wk_...`) or a JWT; anything unverifiable is none. */
export async function callerForToken(token: string, verify: TokenVerifier, writeKeys: WriteKeyStore): Promise<Caller | undefined> {
  if (isWriteKey(token)) return authenticateWriteKey(writeKeys, token);
  const claims = await verify(token).catch(() => undefined);
  return claims && callerFromClaims(claims);
}

export function createAuthorizeHandler(verify: TokenVerifier, writeKeys: WriteKeyStore) {
  return async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = /^Bearer\s+(\S+)$/i.exec(event.authorizationToken ?? '')?.[1];
    const caller = token ? await callerForToken(token, verify, writeKeys) : undefined;
    if (!caller) throw new Error(UNAUTHORIZED);
    return {
      principalId: caller.subject,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }],
      },
      context: callerToContext(caller),
    };
  };
}

export const handler = lazyHandler(async () => createAuthorizeHandler(awsTokenVerifier(), awsWriteKeyStore()));
