import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { loadAuthConfig } from '../shared/config.js';
import { callerFromClaims, callerToContext } from '../shared/domain/caller.js';
import { createTokenVerifier, type TokenVerifier } from '../shared/adapters/jwt/jose-token-verifier.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** API Gateway answers 401 when a TOKEN authorizer throws exactly this message. */
export const UNAUTHORIZED = 'Unauthorized';

/** The policy covers the whole stage so that one cached answer serves every route. */
function stageWildcard(methodArn: string): string {
  // arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path}
  const [apiArn, stage] = methodArn.split('/');
  return `${apiArn}/${stage}/*`;
}

export function createAuthorizeHandler(verify: TokenVerifier) {
  return async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = /^Bearer\s+(\S+)$/i.exec(event.authorizationToken ?? '')?.[1];
    const claims = token ? await verify(token).catch(() => undefined) : undefined;
    const caller = claims && callerFromClaims(claims);
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

export const handler = lazyHandler(async () => createAuthorizeHandler(createTokenVerifier(loadAuthConfig())));
