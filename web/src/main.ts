import { getConfig, setConfig, whenSignedOut } from './api.js';
import { $, fill, h } from './dom.js';
import { completeSignIn, isCallback, signOutUrl } from './hosted-ui.js';
import { currentRoute, navigate, type View } from './route.js';
import { clearToken, getToken, hasScope, readClaims } from './session.js';
import type { WebConfig } from './types.js';
import { renderAdmin } from './views/admin.js';
import { renderExplorer } from './views/explorer.js';
import { renderOverview } from './views/overview.js';
import { renderSignIn } from './views/signin.js';

/** What a view leaves running (a socket, a timer), stopped when another view replaces it. */
export type Cleanup = () => void;

const VIEW_NAMES: Record<View, string> = { overview: 'Overview', explorer: 'Explorer', admin: 'Admin' };
let cleanup: Cleanup | undefined;

function header(view: View | undefined): void {
  const top = $('#top');
  const token = getToken();
  if (!token) {
    fill(top, h('span', { class: 'brand' }, 'Event tracker'));
    return;
  }
  const claims = readClaims(token);
  const views: View[] = hasScope(token, 'admin') ? ['overview', 'explorer', 'admin'] : ['overview', 'explorer'];
  fill(
    top,
    h('span', { class: 'brand' }, 'Event tracker'),
    h(
      'nav',
      { aria: { label: 'Views' } },
      ...views.map((name) =>
        h('button', { type: 'button', class: 'tab', aria: name === view ? { current: 'page' } : {}, data: { view: name }, onclick: () => navigate(name, name === currentRoute().view ? currentRoute().params : carriedParams(name)) }, VIEW_NAMES[name]),
      ),
    ),
    h('span', { class: 'who' }, h('span', { class: 'muted' }, 'Tenant '), h('code', { data: { tenant: '' } }, claims?.tenantId ?? 'unknown')),
    h('button', { type: 'button', class: 'link', onclick: () => signOut() }, 'Sign out'),
  );
}

/** The period and zone follow from one view to the next; the other filters stay with their view. */
function carriedParams(target: View): URLSearchParams {
  const from = currentRoute().params;
  const params = new URLSearchParams();
  if (target === 'admin') return params;
  for (const key of ['period', 'from', 'to', 'tz']) {
    const value = from.get(key);
    if (value) params.set(key, value);
  }
  return params;
}

/** With the hosted UI, its logout too: otherwise its session cookie would sign the next click straight back in. */
function signOut(): void {
  clearToken();
  const { auth } = getConfig();
  if (auth.mode === 'cognito') location.assign(signOutUrl(auth));
  else render('Signed out.');
}

/** Back from the hosted UI: the code becomes a token, or the sign-in screen says why not. */
async function signInFromCallback(): Promise<string | undefined> {
  const { auth } = getConfig();
  if (auth.mode !== 'cognito' || !isCallback(auth)) return undefined;
  fill($('#main'), h('p', { class: 'muted' }, 'Signing in…'));
  try {
    await completeSignIn(auth);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : 'The sign-in did not complete. Sign in again.';
  }
}

function render(message?: string): void {
  cleanup?.();
  cleanup = undefined;
  const main = $('#main');
  const route = currentRoute();
  if (!getToken()) {
    header(undefined);
    document.title = 'Sign in · Event tracker';
    renderSignIn(main, message, () => render());
    return;
  }
  header(route.view);
  document.title = `${VIEW_NAMES[route.view]} · Event tracker`;
  if (route.view === 'admin') cleanup = renderAdmin(main, route);
  else if (route.view === 'explorer') cleanup = renderExplorer(main, route);
  else cleanup = renderOverview(main, route);
}

async function boot(): Promise<void> {
  const answer = await fetch('/config.json', { cache: 'no-cache' }).catch(() => undefined);
  if (answer?.ok) setConfig((await answer.json()) as WebConfig);
  whenSignedOut((reason) => render(reason));
  window.addEventListener('hashchange', () => render());
  // The skip link would otherwise change the hash, which is the route.
  $('#skip').addEventListener('click', (event) => {
    event.preventDefault();
    $('#main').focus();
  });
  render(await signInFromCallback());
}

void boot();
