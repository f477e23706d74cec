import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { AuthConfig } from '../../config.js';

export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/**
 * HS256 with a shared secret locally, RS256 against a JWKS (Cognito) in AWS. The remote key
 * set is cached by jose and refetched when a token names a key id it has not seen (rotation).
 * Algorithms are pinned: a token that says `alg: none` or switches HS/RS is refused.
 */
export function createTokenVerifier(config: AuthConfig, jwks: { cooldownMs?: number } = {}): TokenVerifier {
  const options = { issuer: config.issuer, audience: config.audience };
  if (config.jwksUrl) {
    // At most one refetch per cooldown for unknown key ids, so forged kids cannot hammer the pool.
    const keys = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: jwks.cooldownMs ?? 30_000, cacheMaxAge: 10 * 60_000 });
    return async (token) => (await jwtVerify(token, keys, { ...options, algorithms: ['RS256'] })).payload;
  }
  if (!config.jwtSecret) throw new Error('Set JWT_SECRET or JWKS_URL to verify tokens.');
  const secret = new TextEncoder().encode(config.jwtSecret);
  return async (token) => (await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })).payload;
}
