import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthorizeHandler } from '../../../lambdas/authorize/handler.js';
import { createTokenVerifier } from '../../../lambdas/shared/adapters/jwt/jose-token-verifier.js';
import { mintToken } from '../../../lambdas/shared/adapters/jwt/mint-token.js';
import { TENANT_A } from '../../support/factories.js';

const secret = 'test-secret-that-is-at-least-32-characters';
const authorize = createAuthorizeHandler(createTokenVerifier({ jwtSecret: secret, issuer: 'tracker', audience: 'api' }));
const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/events';
const event = (token: string): APIGatewayTokenAuthorizerEvent => ({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn });
const mint = (overrides: Partial<Parameters<typeof mintToken>[0]> = {}) =>
  mintToken({ secret, tenantId: TENANT_A, subject: 'user-1', scopes: ['events:write'], issuer: 'tracker', audience: 'api', ...overrides });

describe('authorize handler', () => {
  it('allows a valid token for the whole stage and passes tenant, subject and scopes', async () => {
    const result = await authorize(event(await mint()));

    expect(result.principalId).toBe('user-1');
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*' });
    expect(result.context).toEqual({ tenantId: TENANT_A, subject: 'user-1', scopes: 'events:write' });
  });

  it('refuses a token signed with another secret', async () => {
    await expect(authorize(event(await mint({ secret: 'another-secret-that-is-also-32-chars-long' })))).rejects.toThrow('Unauthorized');
  });

  it('refuses an expired token, a wrong issuer and a wrong audience', async () => {
    await expect(authorize(event(await mint({ expiresIn: '-1m' })))).rejects.toThrow('Unauthorized');
    await expect(authorize(event(await mint({ issuer: 'someone-else' })))).rejects.toThrow('Unauthorized');
    await expect(authorize(event(await mint({ audience: 'other' })))).rejects.toThrow('Unauthorized');
  });

  it('refuses alg=none', async () => {
    const unsigned = new UnsecuredJWT({ tenant_id: TENANT_A, scope: 'admin' }).setSubject('x').setIssuer('tracker').setAudience('api').encode();
    await expect(authorize(event(unsigned))).rejects.toThrow('Unauthorized');
  });

  it('refuses a token without a tenant and a missing or malformed header', async () => {
    const noTenant = await new SignJWT({ scope: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('tracker').setAudience('api').setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    await expect(authorize(event(noTenant))).rejects.toThrow('Unauthorized');
    await expect(authorize({ type: 'TOKEN', authorizationToken: '', methodArn })).rejects.toThrow('Unauthorized');
    await expect(authorize({ type: 'TOKEN', authorizationToken: 'Basic abc', methodArn })).rejects.toThrow('Unauthorized');
  });

  it('drops scopes it does not know', async () => {
    const token = await new SignJWT({ tenant_id: TENANT_A, scope: 'events:read superuser' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('tracker').setAudience('api').setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    expect((await authorize(event(token))).context).toMatchObject({ scopes: 'events:read' });
  });
});
