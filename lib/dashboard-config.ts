/**
 * What the dashboard's `config.json` says about sign-in, for the deploy (absolute URIs on the
 * distribution) and the local runtime (relative: the page resolves them against its origin,
 * whatever port it runs on). No CDK here: the local runtime imports it.
 */

/** The path the hosted UI sends the browser back to with the code (PKCE). */
export const CALLBACK_PATH = '/callback';
/** The page, where the hosted UI's logout sends the browser. */
export const LOGOUT_PATH = '/';
/** The OAuth scopes the dashboard's app client allows and the page asks for. */
export const SIGN_IN_SCOPES = 'openid email profile';

export function hostedUiAuth(domain: string, clientId: string, origin = '') {
  return { mode: 'cognito', domain, clientId, redirectUri: `${origin}${CALLBACK_PATH}`, logoutUri: `${origin}${LOGOUT_PATH}`, scopes: SIGN_IN_SCOPES } as const;
}
