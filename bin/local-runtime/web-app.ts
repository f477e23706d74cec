import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { CALLBACK_PATH, hostedUiAuth } from '../../lib/dashboard-config.js';

const WEB_ROOT = fileURLToPath(new URL('../../web', import.meta.url));

/** One file of the built app, kept in memory with its gzip form. */
interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
  /** Content-hashed names never change content: a browser may keep them a year. */
  immutable: boolean;
}

export type WebAssets = Map<string, Asset>;

/** A Cognito hosted UI the local dashboard signs in at (`DASHBOARD_HOSTED_UI`, `DASHBOARD_CLIENT_ID`). */
export interface DashboardSignIn {
  /** The hosted UI's origin. */
  hostedUi: string;
  clientId: string;
}

/**
 * No inline script or style anywhere: uPlot sets element styles through the CSSOM, which
 * `style-src 'self'` allows, and its stylesheet ships in app.css. `connect-src 'self'` covers
 * the same-origin WebSocket in Chromium and Firefox (CSP Level 3); the hosted UI's token
 * endpoint, when there is one, is another origin.
 */
export function contentSecurityPolicy(signIn?: DashboardSignIn): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${signIn ? ` ${signIn.hostedUi}` : ''}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** What the page reads before anything else (contract of issue 16, item 4): paste a token, or the hosted UI's code flow. */
export const localWebConfig = (signIn?: DashboardSignIn) => ({ apiBase: '', auth: signIn ? hostedUiAuth(signIn.hostedUi, signIn.clientId) : { mode: 'token' } });

function asset(body: Buffer, type: string, immutable: boolean): Asset {
  return { body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, immutable };
}

/**
 * The dashboard, built with esbuild from `web/`: one minified script (the app and uPlot), one
 * stylesheet (ours and uPlot's), index.html pointing at their content-hashed names.
 */
export async function buildWebApp(signIn?: DashboardSignIn): Promise<WebAssets> {
  const result = await build({
    entryPoints: { app: join(WEB_ROOT, 'src/main.ts'), style: join(WEB_ROOT, 'src/styles.css') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    entryNames: '[name]-[hash]',
    outdir: '/assets',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets: WebAssets = new Map();
  let html = await readFile(join(WEB_ROOT, 'index.html'), 'utf8');
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/assets/'));
    const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(name, asset(Buffer.from(file.contents), type, true));
    html = html.replace(name.endsWith('.css') ? '/assets/style.css' : '/assets/app.js', name);
  }
  assets.set('/', asset(Buffer.from(html), 'text/html; charset=utf-8', false));
  assets.set('/config.json', asset(Buffer.from(JSON.stringify(localWebConfig(signIn))), 'application/json', false));
  return assets;
}

export interface WebAppServer {
  /** Answers GET and HEAD of the app's files; false for any other request. */
  serve(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  /** Starts the build now rather than at the first request. */
  prepare(): Promise<void>;
}

/** The built app on the local gateway's port, at `/`; built once, on first use. */
export function webAppServer(signIn?: DashboardSignIn): WebAppServer {
  const securityHeaders = {
    'content-security-policy': contentSecurityPolicy(signIn),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
  let assets: Promise<WebAssets> | undefined;
  const built = () => (assets ??= buildWebApp(signIn));
  return {
    async prepare() {
      await built();
    },
    async serve(request, response) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      // The hosted UI comes back to a path, not the hash: the same page takes the code there
      // (CloudFront answers index.html for what the bucket lacks).
      const file = (await built()).get(path === '/index.html' || path === CALLBACK_PATH ? '/' : path);
      if (!file) return false;
      const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
      const body = gzip ? file.gzip : file.body;
      const { etag } = file;
      const headers = {
        ...securityHeaders,
        'content-type': file.type,
        'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        etag,
        vary: 'Accept-Encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      };
      if (request.headers['if-none-match'] === etag) {
        response.writeHead(304, headers);
        response.end();
        return true;
      }
      response.writeHead(200, { ...headers, 'content-length': String(body.byteLength) });
      response.end(request.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
