/**
 * The view and its filters live in the URL's hash (`#/explorer?types=ERROR&category=api`):
 * a link shares them, a reload keeps them, the back button steps through them, and the
 * static host serves one path. Never the token.
 */
export type View = 'overview' | 'explorer' | 'admin';

export interface Route {
  view: View;
  params: URLSearchParams;
}

const VIEWS: View[] = ['overview', 'explorer', 'admin'];

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = hash.split('?', 2) as [string?, string?];
  const view = VIEWS.find((candidate) => candidate === path) ?? 'overview';
  return { view, params: new URLSearchParams(search) };
}

export function routeHash(view: View, params: URLSearchParams): string {
  const search = params.toString();
  return `#/${view}${search ? `?${search}` : ''}`;
}

/** Goes to a view with these filters: a new history entry, then the app renders it. */
export function navigate(view: View, params: URLSearchParams): void {
  const hash = routeHash(view, params);
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

/** The same view with some parameters changed (an empty value removes one). */
export function withParams(route: Route, changes: Record<string, string | string[] | undefined>): URLSearchParams {
  const params = new URLSearchParams(route.params);
  for (const [key, value] of Object.entries(changes)) {
    params.delete(key);
    for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined && item !== '') params.append(key, item);
  }
  return params;
}
