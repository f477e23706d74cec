import { describe, expect, it } from 'vitest';
import { createAuthorizeStreamHandler, type StreamAuthorizerEvent } from '../../../lambdas/authorize-stream/handler.js';
import { authorizerFixtures } from '../../support/authorizer-fixtures.js';
import { TENANT_A, TENANT_B } from '../../support/factories.js';

const { verify, writeKeys, storedKey, mint: mintAny } = authorizerFixtures();
const authorize = createAuthorizeStreamHandler(verify, writeKeys);
const mint = (overrides: Parameters<typeof mintAny>[0] = {}) => mintAny({ scopes: ['events:read'], ...overrides });

const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/$connect';
/** A handshake as API Gateway hands it over: header names as the client spelled them. */
const handshake = (headers: Record<string, string>, query?: Record<string, string>): StreamAuthorizerEvent => ({
  methodArn,
  headers: { Host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'Sec-WebSocket-Version': '13', ...headers },
  queryStringParameters: query ?? null,
});
/** The token in each of the three places a client may put it. */
const places = {
  'the subprotocols': (token: string) => handshake({ 'Sec-WebSocket-Protocol': `bearer, ${token}` }),
  '?token=': (token: string) => handshake({}, { token, types: 'ERROR' }),
  'an Authorization header': (token: string) => handshake({ Authorization: `Bearer ${token}` }),
};

describe('the stream authorizer', () => {
  it.each(Object.entries(places))('allows $connect for the token in %s and passes the caller', async (_place, withToken) => {
    const result = await authorize(withToken(await mint()));

    expect(result.principalId).toBe('user-1');
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }]);
    expect(result.context).toEqual({ tenantId: TENANT_A, subject: 'user-1', scopes: 'events:read' });
  });

  it('reads the headers however they are spelled, and the subprotocols whichever comes first', async () => {
    const token = await mint();
    expect((await authorize(handshake({ 'sec-websocket-protocol': `${token},bearer` }))).context).toMatchObject({ tenantId: TENANT_A });
    expect((await authorize(handshake({ authorization: `bearer ${token}` }))).context).toMatchObject({ tenantId: TENANT_A });
  });

  it('passes a write key on with events:write only, for $connect to refuse (403)', async () => {
    const result = await authorize(places['?token='](storedKey()));
    expect(result.context).toMatchObject({ tenantId: TENANT_B, scopes: 'events:write' });
  });

  it('refuses (401) a handshake with no credential', async () => {
    await expect(authorize({ methodArn, headers: null, queryStringParameters: null })).rejects.toThrow('Unauthorized');
    await expect(authorize(handshake({}, { types: 'ERROR' }))).rejects.toThrow('Unauthorized');
  });

  it('refuses (401) a credential malformed in its place: subprotocols not exactly bearer and one token, an Authorization that is not Bearer, an empty ?token=', async () => {
    const token = await mint();
    for (const offered of ['bearer', `bearer, ${token}, chat`, 'bearer, bearer']) {
      await expect(authorize(handshake({ 'Sec-WebSocket-Protocol': offered })), offered).rejects.toThrow('Unauthorized');
    }
    await expect(authorize(handshake({ Authorization: token }))).rejects.toThrow('Unauthorized');
    await expect(authorize(handshake({ Authorization: `Basic ${Buffer.from(`${storedKey()}:`).toString('base64')}` }))).rejects.toThrow('Unauthorized');
    await expect(authorize(handshake({}, { token: '' }))).rejects.toThrow('Unauthorized');
  });

  it('refuses (401) a credential in more than one place, the same token or not: an authorizer cannot answer 400', async () => {
    const token = await mint();
    const other = await mint({ subject: 'user-2' });
    await expect(authorize(handshake({ 'Sec-WebSocket-Protocol': `bearer, ${token}` }, { token }))).rejects.toThrow('Unauthorized');
    await expect(authorize(handshake({ Authorization: `Bearer ${token}` }, { token: other }))).rejects.toThrow('Unauthorized');
    await expect(authorize(handshake({ 'Sec-WebSocket-Protocol': `bearer, ${token}`, Authorization: `Bearer ${token}` }))).rejects.toThrow('Unauthorized');
  });

  it.each(Object.entries(places))('refuses (401) a token in %s that does not verify: another secret, expired, a revoked write key', async (_place, withToken) => {
    for (const token of [await mint({ secret: 'another-secret-that-is-also-32-chars-long' }), await mint({ expiresIn: '-1m' }), storedKey({ revokedAt: '2026-11-26T01:00:00Z' }), 'not-a-jwt']) {
      await expect(authorize(withToken(token))).rejects.toThrow('Unauthorized');
    }
  });
});
