import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { callerFromContext } from '../../domain/caller.js';
import { isRefusal, readClientFrame, readSubscription, STREAM_CLOSE, type StreamRefusal } from '../../domain/live-stream.js';
import { readStreamCredential, STREAM_SUBPROTOCOL } from '../../domain/stream-credential.js';
import { log } from '../../logger.js';
import type { Authorizer } from './api-gateway-emulator.js';
import type { HubSubscription, LiveStreamHub } from './live-stream-hub.js';

export const STREAM_PATH = '/v1/stream';

/** A client sends pings and resumes only; anything larger is not a frame of this protocol. */
const MAX_CLIENT_FRAME_BYTES = 1024;
/** Sockets still open this long after a stop are cut. */
const CLOSE_GRACE_MS = 1000;

export interface LiveStreamServer {
  close(): Promise<void>;
}

/**
 * The handshake's credential (`domain/stream-credential.ts`) as the authorizer reads a bearer
 * header, or the places it is in when there are several.
 */
function credentialOf(request: IncomingMessage, url: URL): { authorizationToken: string } | { places: string[] } {
  const credential = readStreamCredential({
    subprotocols: request.headers['sec-websocket-protocol'],
    query: url.searchParams.get('token') ?? undefined,
    authorization: request.headers.authorization,
  });
  if ('places' in credential) return credential;
  return { authorizationToken: credential.token ? `Bearer ${credential.token}` : '' };
}

/**
 * The live stream on the local gateway's port: `ws` at `/v1/stream`, the protocol of
 * `domain/live-stream.ts`. The credential, in one of three places (`domain/stream-credential.ts`),
 * goes through the same authorizer as the HTTP routes; a handshake that offers `bearer` gets it
 * selected, as `$connect` does in AWS. A refusal completes the upgrade and closes with a 4xxx
 * code and a reason, which a browser can read (an HTTP status on a refused upgrade it cannot).
 * Neither the URL nor the handshake's headers, which may carry the token, are ever logged.
 */
export function attachLiveStream(server: Server, authorize: Authorizer, hub: LiveStreamHub, heartbeatMs: number): LiveStreamServer {
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_FRAME_BYTES,
    // Never the token: the one offered value that is not a secret, else none (the credential is
    // then in the URL or a header, or missing and a 4401 follows).
    handleProtocols: (offered) => (offered.has(STREAM_SUBPROTOCOL) ? STREAM_SUBPROTOCOL : false),
  });
  const alive = new WeakMap<WebSocket, boolean>();

  const refuse = (socket: WebSocket, refusal: StreamRefusal) => {
    log('info', 'stream subscriber refused', { code: refusal.code, reason: refusal.reason });
    socket.close(refusal.code, refusal.reason);
  };

  async function accept(socket: WebSocket, connection: Duplex, request: IncomingMessage, url: URL): Promise<void> {
    let subscribed: HubSubscription | undefined;
    // A resume sent on open, before the credential is checked, waits for the subscription: in
    // AWS a socket opens only once subscribed, so a client may send it at once.
    const earlyResumes: string[] = [];
    let closed = false;
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
    socket.on('close', () => {
      closed = true;
      subscribed?.unsubscribe();
    });
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => {
      const frame = isBinary ? { code: STREAM_CLOSE.badRequest, reason: 'malformed frame: binary frames are not accepted' } : readClientFrame(data.toString());
      if (isRefusal(frame)) refuse(socket, frame);
      else if (frame.action === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      else if (subscribed) subscribed.resume(frame.after);
      else earlyResumes.push(frame.after);
    });

    const credential = credentialOf(request, url);
    if ('places' in credential) return refuse(socket, { code: STREAM_CLOSE.badRequest, reason: `credential in more than one place (${credential.places.join(', ')}): send one` });
    const result = await authorize({ type: 'TOKEN', authorizationToken: credential.authorizationToken, methodArn: `arn:aws:execute-api:local:000000000000:local/v1/GET${STREAM_PATH}` }).catch(() => undefined);
    const caller = result && callerFromContext({ principalId: result.principalId, ...result.context });
    if (closed) return;
    if (!caller) return refuse(socket, { code: STREAM_CLOSE.unauthorized, reason: 'missing or invalid credential' });
    const subscription = readSubscription(Object.fromEntries(url.searchParams), caller);
    if (isRefusal(subscription)) return refuse(socket, subscription);
    subscribed = hub.subscribe(caller.tenantId, subscription, {
      bufferedBytes: () => socket.bufferedAmount,
      // Corked, ws's writes of a delivery's frames go to the network as one writev, not one
      // syscall per 32 KB frame and subscriber (docs/benchmarks.md, Live stream).
      send: (frames) => {
        connection.cork();
        try {
          for (const frame of frames) socket.send(frame, { binary: false });
        } finally {
          connection.uncork();
        }
      },
    });
    for (const after of earlyResumes.splice(0)) subscribed.resume(after);
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== STREAM_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => void accept(ws, socket, request, url));
  };
  server.on('upgrade', onUpgrade);

  // A subscriber that did not answer the last ping is gone (or stuck): it is cut, and so
  // stops holding its buffer. The pings also keep idle connections open through proxies.
  const heartbeat = setInterval(() => {
    for (const socket of sockets.clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  return {
    async close() {
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      const open = [...sockets.clients];
      for (const socket of open) socket.close(1001, 'server stopping');
      const grace = setTimeout(() => open.forEach((socket) => socket.terminate()), CLOSE_GRACE_MS);
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await Promise.all(open.map((socket) => (socket.readyState === socket.CLOSED ? undefined : new Promise((resolve) => socket.once('close', resolve)))));
      clearTimeout(grace);
    },
  };
}
