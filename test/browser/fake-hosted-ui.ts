import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';

/** What the stand-in signs into its ID tokens: a Cognito user of one tenant and its groups. */
export interface FakeUser {
  tenantId: string;
  groups: string[];
}

export interface FakeHostedUi {
  origin: string;
  clientId: string;
  /** Every call the browser made, in order (`authorize`, `token`, `logout`). */
  calls: string[];
  /** Sends the next authorize answer back with this state instead of the one it was given. */
  forgeNextState(state: string): void;
  close(): Promise<void>;
}

interface Grant {
  challenge: string;
  redirectUri: string;
}

const base64url = (bytes: Buffer): string => bytes.toString('base64url');

async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function answer(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Cognito's hosted UI as far as the dashboard uses it, on loopback: `/oauth2/authorize` signs
 * the user in at once and redirects with a code bound to the PKCE challenge, `/oauth2/token`
 * exchanges a code once for an ID token shaped as Cognito's (`custom:tenant_id`,
 * `cognito:groups`, `token_use`, `aud` = the client) signed with the secret the local runtime
 * verifies with, and `/logout` redirects to the logout URI. Anything off the protocol is a 400.
 */
export async function startFakeHostedUi(options: { clientId: string; secret: string; user: FakeUser }): Promise<FakeHostedUi> {
  const grants = new Map<string, Grant>();
  const calls: string[] = [];
  let forgedState: string | undefined;
  let origin = '';
  const key = new TextEncoder().encode(options.secret);

  const sign = (claims: Record<string, unknown>) =>
    new SignJWT({ 'cognito:groups': options.user.groups, ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('cognito-user-1')
      .setIssuer(origin)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);

  async function token(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The page's origin reads the answer (Cognito's token endpoint answers CORS the same way).
    const cors = { 'access-control-allow-origin': request.headers.origin ?? '*' };
    const form = await formOf(request);
    const code = form.get('code') ?? '';
    const grant = grants.get(code);
    grants.delete(code);
    const verifier = form.get('code_verifier') ?? '';
    if (
      form.get('grant_type') !== 'authorization_code' ||
      form.get('client_id') !== options.clientId ||
      !grant ||
      form.get('redirect_uri') !== grant.redirectUri ||
      base64url(createHash('sha256').update(verifier).digest()) !== grant.challenge
    ) {
      return answer(response, 400, { error: 'invalid_grant' }, cors);
    }
    answer(
      response,
      200,
      {
        // Custom attributes are in the ID token only, as Cognito issues them.
        id_token: await sign({ token_use: 'id', aud: options.clientId, 'custom:tenant_id': options.user.tenantId, email: 'admin@example.test' }),
        access_token: await sign({ token_use: 'access', client_id: options.clientId, scope: 'openid email profile' }),
        refresh_token: base64url(randomBytes(32)),
        token_type: 'Bearer',
        expires_in: 3600,
      },
      { ...cors, 'cache-control': 'no-store' },
    );
  }

  function authorize(url: URL, response: ServerResponse): void {
    const param = (name: string) => url.searchParams.get(name) ?? '';
    const redirectUri = param('redirect_uri');
    if (param('response_type') !== 'code' || param('client_id') !== options.clientId || param('code_challenge_method') !== 'S256' || !/^[\w-]{43}$/.test(param('code_challenge')) || !param('state') || !redirectUri) {
      return answer(response, 400, { error: 'invalid_request' });
    }
    const code = base64url(randomBytes(16));
    grants.set(code, { challenge: param('code_challenge'), redirectUri });
    const back = new URL(redirectUri);
    back.search = new URLSearchParams({ code, state: forgedState ?? param('state') }).toString();
    forgedState = undefined;
    response.writeHead(302, { location: back.toString() });
    response.end();
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    if (request.method === 'GET' && url.pathname === '/oauth2/authorize') {
      calls.push('authorize');
      return authorize(url, response);
    }
    if (request.method === 'POST' && url.pathname === '/oauth2/token') {
      calls.push('token');
      return void token(request, response).catch(() => answer(response, 500, { error: 'server_error' }));
    }
    if (request.method === 'GET' && url.pathname === '/logout' && url.searchParams.get('client_id') === options.clientId && url.searchParams.get('logout_uri')) {
      calls.push('logout');
      response.writeHead(302, { location: url.searchParams.get('logout_uri') ?? '' });
      return void response.end();
    }
    answer(response, 400, { error: 'invalid_request' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    clientId: options.clientId,
    calls,
    forgeNextState: (state) => {
      forgedState = state;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
