import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../../../../lambdas/shared/adapters/jwt/jose-token-verifier.js';
import { TENANT_A } from '../../../../support/factories.js';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** A Cognito stand-in: a JWKS endpoint on loopback whose keys the test rotates. */
let server: Server;
let jwksUrl: string;
let published: JWK[] = [];
let fetches = 0;

async function signingKey(kid: string): Promise<{ privateKey: PrivateKey; jwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

const idToken = (key: PrivateKey, kid: string, claims: Record<string, unknown> = {}) =>
  new SignJWT({ 'custom:tenant_id': TENANT_A, 'cognito:groups': ['events:read'], ...claims })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setSubject('cognito-user')
    .setIssuer('https://cognito-idp.local/pool')
    .setAudience('client-1')
    .setExpirationTime('5m')
    .sign(key);

beforeAll(async () => {
  server = createServer((_request, response) => {
    fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('createTokenVerifier with a JWKS (Cognito)', () => {
  it('verifies RS256 tokens, caches the key set, and picks up a rotated key by its new kid', async () => {
    const first = await signingKey('k1');
    published = [first.jwk];
    fetches = 0;
    // No cooldown here; deployed, an unknown kid refetches at most every 30 s.
    const verify = createTokenVerifier({ jwksUrl, issuer: 'https://cognito-idp.local/pool', audience: 'client-1' }, { cooldownMs: 0 });

    await expect(verify(await idToken(first.privateKey, 'k1'))).resolves.toMatchObject({ 'custom:tenant_id': TENANT_A });
    await verify(await idToken(first.privateKey, 'k1'));
    expect(fetches).toBe(1);

    const second = await signingKey('k2');
    published = [first.jwk, second.jwk];
    await expect(verify(await idToken(second.privateKey, 'k2'))).resolves.toMatchObject({ sub: 'cognito-user' });
    expect(fetches).toBe(2);
  });

  it('refuses a token signed by a key the pool does not publish, and an HS256 token', async () => {
    const known = await signingKey('k3');
    const stranger = await signingKey('k3');
    published = [known.jwk];
    const verify = createTokenVerifier({ jwksUrl, issuer: 'https://cognito-idp.local/pool', audience: 'client-1' });

    await expect(verify(await idToken(stranger.privateKey, 'k3'))).rejects.toThrow();
    const hs256 = await new SignJWT({ 'custom:tenant_id': TENANT_A }).setProtectedHeader({ alg: 'HS256', kid: 'k3' }).setIssuer('https://cognito-idp.local/pool').setAudience('client-1').setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32)));
    await expect(verify(hs256)).rejects.toThrow();
  });
});
