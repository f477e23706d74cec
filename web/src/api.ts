import { clearToken, getToken } from './session.js';
import type { WebConfig } from './types.js';

export interface FieldIssue {
  path: string;
  message: string;
}

/** An answer that is not a success, in words: problem+json's title, detail and every field named. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly fields: FieldIssue[] = [],
  ) {
    super(`${title}: ${detail}`);
  }
}

/** The credential was refused: the app goes back to sign-in, keeping the URL. */
export class SignedOutError extends Error {
  override name = 'SignedOutError';
}

let config: WebConfig = { apiBase: '', auth: { mode: 'token' } };
let onSignedOut: (reason: string) => void = () => undefined;

export const setConfig = (value: WebConfig): void => {
  config = value;
};
export const getConfig = (): WebConfig => config;
export const whenSignedOut = (handler: (reason: string) => void): void => {
  onSignedOut = handler;
};

/** The live stream's URL: from config.json, else the same origin's `/v1/stream`. */
export function streamUrl(): string {
  if (config.streamUrl) return config.streamUrl;
  const base = config.apiBase ? new URL(config.apiBase) : new URL(location.href);
  return `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}/v1/stream`;
}

export const apiUrl = (path: string): string => `${config.apiBase}${path}`;

async function problemOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as Record<string, unknown>;
    const fields = Array.isArray(problem['errors'])
      ? problem['errors'].flatMap((issue: unknown) => {
          const { path, message } = (issue ?? {}) as Record<string, unknown>;
          return typeof message === 'string' ? [{ path: typeof path === 'string' ? path : '', message }] : [];
        })
      : [];
    return new ApiError(response.status, typeof problem['title'] === 'string' ? problem['title'] : response.statusText, typeof problem['detail'] === 'string' ? problem['detail'] : '', fields);
  } catch {
    return new ApiError(response.status, response.statusText || `HTTP ${response.status}`, text.slice(0, 200));
  }
}

/** Sends a request with the session's token; a 401 signs out (the URL and its filters stay). */
export async function request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, token = getToken()): Promise<Response> {
  if (!token) {
    onSignedOut('Sign in to continue.');
    throw new SignedOutError('no token');
  }
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(apiUrl(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch (error) {
    throw new ApiError(0, 'The API did not answer', error instanceof Error ? error.message : 'network error');
  }
  if (response.status === 401) {
    const problem = await problemOf(response);
    if (token === getToken()) {
      clearToken();
      onSignedOut(`The server refused the token (${problem.detail || problem.title}). Sign in again.`);
    }
    throw new SignedOutError(problem.message);
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request('GET', path)).json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return (await (await request('POST', path, body)).json()) as T;
}

export async function deleteJson<T>(path: string): Promise<T> {
  return (await (await request('DELETE', path)).json()) as T;
}

/** A query string of the defined values. */
export function query(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
