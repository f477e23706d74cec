/**
 * The credential lives in sessionStorage only: gone with the tab, never in a URL (which ends up
 * in history, logs and Referer headers), never in localStorage (shared by every tab for ever).
 */
const KEY = 'event-tracker.token';

export interface Claims {
  tenantId: string | undefined;
  subject: string | undefined;
  scopes: string[];
  /** Seconds since the epoch. */
  expiresAt: number | undefined;
}

export const getToken = (): string | null => sessionStorage.getItem(KEY);
export const setToken = (token: string): void => sessionStorage.setItem(KEY, token);
export const clearToken = (): void => sessionStorage.removeItem(KEY);

/**
 * What the token says about its holder, read without verifying (the server verifies): which
 * tenant to name and whether to offer the admin view. A write key carries no claims.
 */
export function readClaims(token: string): Claims | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));
    if (typeof json !== 'object' || json === null) return undefined;
    const claims = json as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const groups = Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'].filter((group): group is string => typeof group === 'string') : [];
    return {
      tenantId: text(claims['tenant_id']) ?? text(claims['custom:tenant_id']),
      subject: text(claims['sub']),
      scopes: [...(text(claims['scope'])?.split(' ') ?? []), ...groups].filter((scope) => scope.length > 0),
      expiresAt: typeof claims['exp'] === 'number' ? claims['exp'] : undefined,
    };
  } catch {
    return undefined;
  }
}

export const hasScope = (token: string | null, scope: string): boolean => (token ? (readClaims(token)?.scopes.includes(scope) ?? false) : false);
