import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthorizeHandler } from '../../../lambdas/authorize/handler.js';
import { authorizerFixtures } from '../../support/authorizer-fixtures.js';
import { TENANT_A, TENANT_B } from '../../support/factories.js';
import { newWriteKey } from '../../../lambdas/shared/domain/write-keys.js';

const { secret, verify, writeKeys, storedKey, mint } = authorizerFixtures();
const authorize = createAuthorizeHandler(verify, writeKeys);
const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/events';
const event = (token: string): APIGatewayTokenAuthorizerEvent => ({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn });

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

  it('maps a live write key to its tenant with events:write only', async () => {
    const key = storedKey();
    const result = await authorize(event(key));
    expect(result.context).toEqual({ tenantId: TENANT_B, subject: expect.stringMatching(/^writekey:[0-9a-f]{16}$/), scopes: 'events:write' });
  });

  it('refuses a revoked write key, an unknown one and one with a wrong secret', async () => {
    await expect(authorize(event(storedKey({ revokedAt: '2026-11-26T01:00:00Z' })))).rejects.toThrow('Unauthorized');
    await expect(authorize(event(newWriteKey().key))).rejects.toThrow('Unauthorized');
    const key = storedKey();
    const forged = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    await expect(authorize(event(forged))).rejects.toThrow('Unauthorized');
    await expect(authorize(event('wk_not-a-key'))).rejects.toThrow('Unauthorized');
  });
});
