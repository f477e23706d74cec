import { describe, expect, it } from 'vitest';
import { createAuthorizeStreamHandler, type StreamAuthorizerEvent } from '../../../lambdas/authorize-stream/handler.js';
import { authorizerFixtures } from '../../support/authorizer-fixtures.js';
import { TENANT_A, TENANT_B } from '../../support/factories.js';

const { verify, writeKeys, storedKey, mint: mintAny } = authorizerFixtures();
const authorize = createAuthorizeStreamHandler(verify, writeKeys);
const mint = (overrides: Parameters<typeof mintAny>[0] = {}) => mintAny({ scopes: ['events:read'], ...overrides });

const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/$connect';
/** A handshake as API Gateway hands it over: header names as the client spelled them. */
const handshake = (headers: Record<string, string>): StreamAuthorizerEvent => ({ methodArn, headers: { Host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'Sec-WebSocket-Version': '13', ...headers } });

describe('the stream authorizer', () => {
  it('allows $connect for the token offered as a subprotocol beside bearer, as a browser sends it, and passes the caller', async () => {
    const result = await authorize(handshake({ 'Sec-WebSocket-Protocol': `bearer, ${await mint()}` }));

    expect(result.principalId).toBe('user-1');
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }]);
    expect(result.context).toEqual({ tenantId: TENANT_A, subject: 'user-1', scopes: 'events:read' });
  });

  it('reads the header however it is spelled and whichever of the two comes first', async () => {
    const token = await mint();
    expect((await authorize(handshake({ 'sec-websocket-protocol': `${token},bearer` }))).context).toMatchObject({ tenantId: TENANT_A });
  });

  it('passes a write key on with events:write only, for $connect to refuse (403)', async () => {
    const result = await authorize(handshake({ 'Sec-WebSocket-Protocol': `bearer, ${storedKey()}` }));
    expect(result.context).toMatchObject({ tenantId: TENANT_B, scopes: 'events:write' });
  });

  it('refuses (401) a handshake without the subprotocols, whatever else carries the token', async () => {
    const token = await mint();
    await expect(authorize({ methodArn, headers: null })).rejects.toThrow('Unauthorized');
    await expect(authorize(handshake({ Authorization: `Bearer ${token}` }))).rejects.toThrow('Unauthorized');
    // A token in the query string is not read: the URL is what access logs keep.
    const inTheUrl = { ...handshake({}), queryStringParameters: { token } };
    await expect(authorize(inTheUrl)).rejects.toThrow('Unauthorized');
  });

  it('refuses (401) subprotocols that are not exactly bearer and one token', async () => {
    const token = await mint();
    for (const offered of ['bearer', token, `bearer.${token}`, `bearer, ${token}, chat`, 'bearer, bearer', ` , `]) {
      await expect(authorize(handshake({ 'Sec-WebSocket-Protocol': offered })), offered).rejects.toThrow('Unauthorized');
    }
  });

  it('refuses (401) a token that does not verify: another secret, expired, a revoked write key', async () => {
    for (const token of [await mint({ secret: 'another-secret-that-is-also-32-chars-long' }), await mint({ expiresIn: '-1m' }), storedKey({ revokedAt: '2026-11-26T01:00:00Z' }), 'not-a-jwt']) {
      await expect(authorize(handshake({ 'Sec-WebSocket-Protocol': `bearer, ${token}` }))).rejects.toThrow('Unauthorized');
    }
  });
});
