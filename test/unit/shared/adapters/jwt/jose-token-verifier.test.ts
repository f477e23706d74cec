import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_SECONDS, createTokenVerifier } from '../../../../../lambdas/shared/adapters/jwt/jose-token-verifier.js';
import { mintToken } from '../../../../../lambdas/shared/adapters/jwt/mint-token.js';
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
    const verify = createTokenVerifier({ jwksUrl, issuer: 'https://cognito-idp.local/pool', audience: ['client-1'] }, { cooldownMs: 0 });

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
    const verify = createTokenVerifier({ jwksUrl, issuer: 'https://cognito-idp.local/pool', audience: ['client-1'] });

    await expect(verify(await idToken(stranger.privateKey, 'k3'))).rejects.toThrow();
    const hs256 = await new SignJWT({ 'custom:tenant_id': TENANT_A }).setProtectedHeader({ alg: 'HS256', kid: 'k3' }).setIssuer('https://cognito-idp.local/pool').setAudience('client-1').setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32)));
    await expect(verify(hs256)).rejects.toThrow();
  });
});

describe('createTokenVerifier with a list of app clients (JWT_AUDIENCE)', () => {
  const secret = 'verifier-test-secret-of-32-characters!';
  const key = new TextEncoder().encode(secret);
  const verify = createTokenVerifier({ jwtSecret: secret, issuer: 'https://cognito-idp.local/pool', audience: ['api-client', 'dashboard-client'] });
  const cognito = (claims: Record<string, unknown>, build: (jwt: SignJWT) => SignJWT = (jwt) => jwt) =>
    build(new SignJWT({ 'custom:tenant_id': TENANT_A, ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject('cognito-user').setIssuer('https://cognito-idp.local/pool').setExpirationTime('5m')).sign(key);

  it('accepts the ID tokens of every client in the list (their aud)', async () => {
    for (const client of ['api-client', 'dashboard-client']) {
      await expect(verify(await cognito({ token_use: 'id' }, (jwt) => jwt.setAudience(client)))).resolves.toMatchObject({ aud: client });
    }
  });

  it('accepts an access token, which has no aud, by its client_id', async () => {
    await expect(verify(await cognito({ token_use: 'access', client_id: 'dashboard-client' }))).resolves.toMatchObject({ client_id: 'dashboard-client' });
  });

  it("refuses another client's ID or access token, and a token that names no client", async () => {
    await expect(verify(await cognito({ token_use: 'id' }, (jwt) => jwt.setAudience('other-client')))).rejects.toThrow(/"aud" claim/);
    await expect(verify(await cognito({ token_use: 'access', client_id: 'other-client' }))).rejects.toThrow(/"aud" claim/);
    // client_id counts only on an access token: an ID token without aud names no client.
    await expect(verify(await cognito({ token_use: 'id', client_id: 'dashboard-client' }))).rejects.toThrow(/"aud" claim/);
    await expect(verify(await cognito({}))).rejects.toThrow(/"aud" claim/);
  });

  it('checks the aud of an access token that has one rather than its client_id', async () => {
    await expect(verify(await cognito({ token_use: 'access', client_id: 'dashboard-client' }, (jwt) => jwt.setAudience('other-client')))).rejects.toThrow(/"aud" claim/);
  });
});

describe('createTokenVerifier with a shared secret', () => {
  const secret = 'verifier-test-secret-of-32-characters!';
  const key = new TextEncoder().encode(secret);
  const verify = createTokenVerifier({ jwtSecret: secret });
  const now = () => Math.floor(Date.now() / 1000);
  const signed = (build: (jwt: SignJWT) => SignJWT) => build(new SignJWT({ tenant_id: TENANT_A }).setProtectedHeader({ alg: 'HS256' }).setSubject('x')).sign(key);

  it('refuses a token without exp', async () => {
    await expect(verify(await signed((jwt) => jwt.setIssuedAt()))).rejects.toThrow(/"exp" claim/);
  });

  it('refuses a token issued 30 days in the future', async () => {
    await expect(verify(await signed((jwt) => jwt.setIssuedAt(now() + 30 * 86_400).setExpirationTime(now() + 31 * 86_400)))).rejects.toThrow(/"iat" claim/);
  });

  it('refuses a token issued further ahead than the clock skew allowance', async () => {
    await expect(verify(await signed((jwt) => jwt.setIssuedAt(now() + CLOCK_SKEW_SECONDS + 5).setExpirationTime('1h')))).rejects.toThrow(/"iat" claim/);
  });

  it('accepts a token issued within the clock skew allowance ahead of our clock', async () => {
    await expect(verify(await signed((jwt) => jwt.setIssuedAt(now() + CLOCK_SKEW_SECONDS - 5).setExpirationTime('1h')))).resolves.toMatchObject({ tenant_id: TENANT_A });
  });

  it('accepts the tokens mintToken makes: they always carry exp and iat', async () => {
    const token = await mintToken({ secret, tenantId: TENANT_A, subject: 'dev', scopes: ['events:read'] });
    const payload = await verify(token);
    expect(payload.exp).toBe((payload.iat ?? 0) + 12 * 3600);
  });
});
