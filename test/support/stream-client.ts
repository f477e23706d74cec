import { WebSocket } from 'ws';
import type { StreamMessage } from '../../lambdas/shared/domain/live-stream.js';
import { streamSubprotocols } from '../../lambdas/shared/domain/stream-credential.js';

export interface StreamClient {
  socket: WebSocket;
  /** Every message received so far, parsed, in order; `frames` their raw byte sizes. */
  messages: StreamMessage[];
  frameBytes: number[];
  /** Resolves with the first message (from the start) that `match` accepts. */
  next(match: (message: StreamMessage) => boolean, timeoutMs?: number): Promise<StreamMessage>;
  /** Resolves once the stream has carried these event ids (in `events` messages). */
  receivedEvents(count: number, timeoutMs?: number): Promise<string[]>;
  closed: Promise<{ code: number; reason: string }>;
}

export const eventIdsOf = (messages: StreamMessage[]): string[] => messages.flatMap((message) => (message.type === 'events' ? message.events.map((event) => event.eventId) : []));

export interface StreamHandshake {
  /** Offered as the browser does, `bearer` and the token; none when absent. */
  token?: string;
  /** Offered as they are, in place of the token's (a malformed handshake). */
  protocols?: string[];
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/** A WebSocket to the local stream that keeps what it receives, for assertions. */
export function connectStream(baseUrl: string, { token, protocols, query = {}, headers = {} }: StreamHandshake): StreamClient {
  const url = new URL('/v1/stream', baseUrl.replace(/^http/, 'ws'));
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const socket = new WebSocket(url, protocols ?? (token === undefined ? [] : streamSubprotocols(token)), { headers });
  const messages: StreamMessage[] = [];
  const frameBytes: number[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data: Buffer) => {
    frameBytes.push(data.byteLength);
    messages.push(JSON.parse(data.toString()) as StreamMessage);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.on('error', () => undefined);
  const waitFor = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const attempt = () => {
        const found = check();
        if (found === undefined) return false;
        waiters.delete(attempt);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(attempt);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(messages.map((message) => message.type))}`));
      }, timeoutMs);
      if (!attempt()) waiters.add(attempt);
    });
  return {
    socket,
    messages,
    frameBytes,
    closed,
    next: (match, timeoutMs = 10_000) => waitFor(() => messages.find(match), timeoutMs, 'a message'),
    receivedEvents: (count, timeoutMs = 15_000) => waitFor(() => {
      const ids = eventIdsOf(messages);
      return ids.length >= count ? ids : undefined;
    }, timeoutMs, `${count} events`),
  };
}
