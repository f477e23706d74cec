import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { AuthConfig } from '../../config.js';

export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/** How far ahead of ours the issuer's clock may be when it stamps `iat`. */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * jose checks `iat` only against a maximum token age, which would also refuse long-lived
 * tokens; a token issued in the future (past the skew) is refused here instead: its issuer's
 * clock, or its issuer, cannot be trusted.
 */
function refuseFutureIssue(payload: JWTPayload): JWTPayload {
  if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) {
    throw new errors.JWTClaimValidationFailed('"iat" claim timestamp check failed (issued in the future)', payload, 'iat', 'check_failed');
  }
  return payload;
}

/**
 * The app clients a token was issued to must include one of `audience`. Cognito's ID tokens
 * name the client in `aud`; its access tokens carry no `aud` but `client_id`, with
 * `token_use: access` (jose's own audience check would refuse every one of them). A token that
 * has neither is refused.
 */
function checkAudience(payload: JWTPayload, audience: string[] | undefined): JWTPayload {
  if (!audience) return payload;
  const clients = payload.aud !== undefined ? [payload.aud].flat() : payload['token_use'] === 'access' && typeof payload['client_id'] === 'string' ? [payload['client_id']] : [];
  if (!clients.some((client) => audience.includes(client))) {
    throw new errors.JWTClaimValidationFailed('unexpected "aud" claim value (or "client_id" of an access token)', payload, 'aud', 'check_failed');
  }
  return payload;
}

/**
 * HS256 with a shared secret locally, RS256 against a JWKS (Cognito) in AWS. The remote key
 * set is cached by jose and refetched when a token names a key id it has not seen (rotation).
 * Algorithms are pinned: a token that says `alg: none` or switches HS/RS is refused. Every
 * token must expire (`exp`): one without it would be a credential for ever.
 */
export function createTokenVerifier(config: AuthConfig, jwks: { cooldownMs?: number } = {}): TokenVerifier {
  const options: JWTVerifyOptions = { issuer: config.issuer, requiredClaims: ['exp'] };
  const checked = (payload: JWTPayload) => checkAudience(refuseFutureIssue(payload), config.audience);
  if (config.jwksUrl) {
    // At most one refetch per cooldown for unknown key ids, so forged kids cannot hammer the pool.
    const keys = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: jwks.cooldownMs ?? 30_000, cacheMaxAge: 10 * 60_000 });
    return async (token) => checked((await jwtVerify(token, keys, { ...options, algorithms: ['RS256'] })).payload);
  }
  if (!config.jwtSecret) throw new Error('Set JWT_SECRET or JWKS_URL to verify tokens.');
  const secret = new TextEncoder().encode(config.jwtSecret);
  return async (token) => checked((await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })).payload);
}
