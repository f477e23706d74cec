import { setToken } from './session.js';
import type { HostedUiConfig } from './types.js';

/**
 * Cognito's hosted UI, by the authorization code flow with PKCE (RFC 7636): the page is a public
 * client and keeps no secret, so a code stolen from the redirect is useless without this tab's
 * verifier. The verifier, the state and the view to return to wait in sessionStorage while the
 * browser is away; the code and state leave the address bar as soon as the page is back.
 */
const PENDING = 'event-tracker.signin';

interface Pending {
  state: string;
  verifier: string;
  /** The route the user was at (`#/explorer?...`), restored after the callback. */
  hash: string;
}

/** A sign-in that did not complete, in words for the sign-in screen. */
export class SignInError extends Error {
  override name = 'SignInError';
}

const base64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomText = (bytes: number): string => base64url(crypto.getRandomValues(new Uint8Array(bytes)));
/** config.json may give the redirect and logout URIs relative to the page (the local runtime does). */
const absolute = (uri: string): string => new URL(uri, location.origin).toString();

export const isCallback = (auth: HostedUiConfig): boolean => location.pathname === new URL(auth.redirectUri, location.origin).pathname;

/** Leaves for the hosted UI; it comes back to the redirect URI with a code and the state. */
export async function startSignIn(auth: HostedUiConfig): Promise<void> {
  // WebCrypto's digest exists only in secure contexts: https, or http on localhost.
  if (!crypto.subtle) throw new SignInError('Sign-in needs this page on https (or localhost).');
  // 32 random bytes: a 43-character verifier, the shortest RFC 7636 allows, 256 bits of entropy.
  const verifier = randomText(32);
  const state = randomText(16);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, hash: location.hash } satisfies Pending));
  const url = new URL('/oauth2/authorize', auth.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: absolute(auth.redirectUri),
    scope: auth.scopes,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

function takePending(): Pending | undefined {
  const text = sessionStorage.getItem(PENDING);
  // One answer per sign-in: a replayed callback finds nothing to match.
  sessionStorage.removeItem(PENDING);
  try {
    const value = JSON.parse(text ?? 'null') as Partial<Pending> | null;
    return typeof value?.state === 'string' && typeof value.verifier === 'string' ? { state: value.state, verifier: value.verifier, hash: typeof value.hash === 'string' ? value.hash : '' } : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

/**
 * At the redirect URI: checks the state against this tab's pending sign-in, exchanges the code
 * and the verifier at the token endpoint and keeps the ID token, which is what the API takes
 * (Cognito writes `custom:tenant_id` into ID tokens only). The access and refresh tokens are
 * not kept: the page calls nothing they are for, and a session ends when its ID token does.
 */
export async function completeSignIn(auth: HostedUiConfig): Promise<void> {
  const params = new URLSearchParams(location.search);
  const pending = takePending();
  // The code leaves the address bar, and this history entry, before anything else can fail.
  history.replaceState(null, '', `/${pending?.hash ?? ''}`);
  const refused = text(params.get('error'));
  if (refused) throw new SignInError(`The sign-in page ended the sign-in: ${text(params.get('error_description')) ?? refused}.`);
  const code = text(params.get('code'));
  if (!pending || !code || params.get('state') !== pending.state) {
    throw new SignInError('This sign-in answer does not match a sign-in this tab started (its state differs), so its code was not used. Sign in again.');
  }
  const response = await fetch(new URL('/oauth2/token', auth.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: auth.clientId, code, redirect_uri: absolute(auth.redirectUri), code_verifier: pending.verifier }),
    cache: 'no-store',
    credentials: 'omit',
  }).catch(() => undefined);
  if (!response) throw new SignInError('The sign-in service did not answer. Sign in again.');
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const idToken = text(answer['id_token']);
  if (!response.ok || !idToken) {
    throw new SignInError(`The sign-in service refused the code (${text(answer['error_description']) ?? text(answer['error']) ?? `HTTP ${response.status}`}). Sign in again.`);
  }
  setToken(idToken);
}

/** The hosted UI's logout: it ends the Cognito session too, then sends the browser to the logout URI. */
export function signOutUrl(auth: HostedUiConfig): string {
  const url = new URL('/logout', auth.domain);
  url.search = new URLSearchParams({ client_id: auth.clientId, logout_uri: absolute(auth.logoutUri) }).toString();
  return url.toString();
}
