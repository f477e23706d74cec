import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_STREAM_FRAME_BYTES, STREAM_CLOSE, type StreamMessage } from '../../../lambdas/shared/domain/live-stream.js';
import { callApi } from '../../support/api-client.js';
import { TENANT_A, TENANT_B } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { connectStream, eventIdsOf, type StreamClient, type StreamHandshake } from '../../support/stream-client.js';

let app: RunningRuntime;
let tokenA: string;
let tokenB: string;
const clients: StreamClient[] = [];

beforeAll(async () => {
  app = await startTestRuntime({
    // Small enough that a paused subscriber passes it with a few MB of events.
    stream: { heartbeatMs: 60_000, recentEventsPerTenant: 1_000, resumeWindowMs: 60_000, subscriberBufferBytes: 64 * 1024 },
  });
  tokenA = await app.token(TENANT_A);
  tokenB = await app.token(TENANT_B);
});

afterEach(() => {
  for (const client of clients.splice(0)) client.socket.terminate();
  vi.restoreAllMocks();
});

afterAll(async () => {
  await app.stop();
});

function subscribe(handshake: StreamHandshake): StreamClient {
  const client = connectStream(app.runtime.url, handshake);
  clients.push(client);
  return client;
}

/** Subscribed and told so: from here on every stored event of its tenant reaches it. */
async function subscribed(handshake: StreamHandshake): Promise<StreamClient> {
  const client = subscribe(handshake);
  await client.next((message) => message.type === 'subscribed');
  return client;
}

/** Resolves once the client has received nothing new for a while. */
async function settled(client: StreamClient, quietMs = 300): Promise<void> {
  let seen = -1;
  while (seen !== client.messages.length) {
    seen = client.messages.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}

interface SentEvent {
  id: string;
  type?: string;
  category?: string;
  action?: string;
  properties?: Record<string, unknown>;
  value?: number;
}

async function send(token: string, events: SentEvent[]): Promise<string[]> {
  const answer = await callApi(app.runtime.url, 'POST', '/v1/events/batch', {
    token,
    body: { events: events.map(({ id, type = 'CUSTOM', category = 'stream', action = 'test', ...rest }) => ({ id, type, category, action, ...rest })) },
  });
  expect(answer.body.failed).toEqual([]);
  return events.map((event) => event.id);
}

/** Within one delivery the stream orders events by timestamp, then id: tests compare sets. */
const someEvents = (count: number, extra: Omit<SentEvent, 'id'> = {}): SentEvent[] => Array.from({ length: count }, () => ({ id: randomUUID(), ...extra }));

describe('the live stream', () => {
  it('delivers a tenant its stored events, as GET /v1/events/{eventId} answers them, and never another tenant\'s', async () => {
    const a = await subscribed({ token: tokenA });
    const b = await subscribed({ token: tokenB });

    const sentA = await send(tokenA, someEvents(3, { properties: { plan: 'pro' } }));
    const sentB = await send(tokenB, someEvents(2));

    expect(await a.receivedEvents(3)).toEqual(expect.arrayContaining(sentA));
    expect(await b.receivedEvents(2)).toEqual(expect.arrayContaining(sentB));
    await app.runtime.eventSource.drained();
    expect(eventIdsOf(a.messages)).toHaveLength(3);
    expect(eventIdsOf(b.messages)).toHaveLength(2);
    const streamed = a.messages.flatMap((message) => (message.type === 'events' ? message.events : [])).find((event) => event.eventId === sentA[0]);
    const fetched = await callApi(app.runtime.url, 'GET', `/v1/events/${sentA[0]}`, { token: tokenA });
    expect(streamed).toEqual(fetched.body);
  });

  it('streams a duplicate once: a resent id is stored once and so published once', async () => {
    const a = await subscribed({ token: tokenA });
    const [event] = someEvents(1);
    if (!event) throw new Error('no event');

    await send(tokenA, [event]);
    await a.receivedEvents(1);
    await send(tokenA, [event]);
    await app.runtime.eventSource.drained();

    expect(eventIdsOf(a.messages)).toEqual([event.id]);
  });

  it('filters by types, categories and property equality', async () => {
    const errors = await subscribed({ token: tokenA, query: { types: 'ERROR,SECURITY' } });
    const checkout = await subscribed({ token: tokenA, query: { categories: 'checkout, billing' } });
    const pro = await subscribed({ token: tokenA, query: { properties: JSON.stringify({ plan: 'pro', user: { tier: 2 } }) } });
    const all = await subscribed({ token: tokenA });

    const [error] = await send(tokenA, someEvents(1, { type: 'ERROR', category: 'app' }));
    const [paid] = await send(tokenA, someEvents(1, { category: 'billing' }));
    const [tier2] = await send(tokenA, someEvents(1, { properties: { plan: 'pro', user: { tier: 2, name: 'x' } } }));
    await send(tokenA, someEvents(1, { properties: { plan: 'pro', user: { tier: 3 } } }));
    await all.receivedEvents(4);
    await app.runtime.eventSource.drained();

    expect(eventIdsOf(errors.messages)).toEqual([error]);
    expect(eventIdsOf(checkout.messages)).toEqual([paid]);
    expect(eventIdsOf(pro.messages)).toEqual([tier2]);
  });

  it('splits a batch into frames under 32 KB and points to an event too large for one', async () => {
    const a = await subscribed({ token: tokenA });
    const padding = 'p'.repeat(4_000);

    const sent = await send(tokenA, someEvents(40, { properties: { padding } }));
    // Under the 32 KB event limit as sent, over the frame once stored (ids, times, nulls added).
    const [large] = await send(tokenA, someEvents(1, { properties: { padding: 'L'.repeat(32_560) } }));

    expect((await a.receivedEvents(40)).sort()).toEqual(sent.sort());
    await a.next((message) => message.type === 'event-too-large');
    expect(a.messages.filter((message) => message.type === 'events').length).toBeGreaterThan(4);
    expect(Math.max(...a.frameBytes)).toBeLessThanOrEqual(MAX_STREAM_FRAME_BYTES);
    expect(a.messages).toContainEqual({ type: 'event-too-large', eventId: large });
  });

  it('resumes a reconnecting subscriber from the last event it saw, and says when that is no longer kept', async () => {
    const first = await subscribed({ token: tokenB });
    const [seen] = await send(tokenB, someEvents(1));
    await first.receivedEvents(1);
    first.socket.close();
    await first.closed;

    const missed = await send(tokenB, someEvents(3));
    await app.runtime.eventSource.drained();
    const again = await subscribed({ token: tokenB, query: { after: seen as string } });

    const resumed = await again.next((message) => message.type === 'resumed');
    expect(resumed).toEqual({ type: 'resumed', after: seen, replayed: 3, complete: true });
    expect(eventIdsOf(again.messages).sort()).toEqual(missed.sort());

    const unknown = randomUUID();
    const lost = await subscribed({ token: tokenB, query: { after: unknown } });
    expect(await lost.next((message) => message.type === 'resumed')).toEqual({ type: 'resumed', after: unknown, replayed: 0, complete: false });
  });

  it('drops events for a subscriber that does not read, counts them, and keeps the others whole', async () => {
    const slow = await subscribed({ token: tokenA });
    const fast = await subscribed({ token: tokenA });
    slow.socket.pause();
    // Loopback holds about 4 MB before a socket backs up; 8 MB of events pass that.
    const padding = 'x'.repeat(20_000);
    const sent: string[] = [];
    for (let round = 0; round < 4; round += 1) sent.push(...(await send(tokenA, someEvents(100, { properties: { padding } }))));

    expect((await fast.receivedEvents(400, 60_000)).sort()).toEqual(sent.sort());
    slow.socket.resume();
    // Once it has read its backlog, the next event finds its buffer empty and goes through.
    await settled(slow);
    const [last] = await send(tokenA, someEvents(1));
    await slow.next((message) => message.type === 'events' && message.events.some((event) => event.eventId === last), 30_000);

    const dropped = slow.messages.find((message): message is Extract<StreamMessage, { type: 'dropped' }> => message.type === 'dropped');
    expect(dropped?.count).toBeGreaterThan(0);
    expect(eventIdsOf(slow.messages).length + (dropped?.count ?? 0)).toBe(401);
    expect(await fast.receivedEvents(401)).toHaveLength(401);
  }, 120_000);

  it('selects the bearer subprotocol on the handshake, never the token offered beside it', async () => {
    const a = await subscribed({ token: tokenA });
    expect(a.socket.protocol).toBe('bearer');
  });

  it('answers a ping frame', async () => {
    const a = await subscribed({ token: tokenA });
    a.socket.send(JSON.stringify({ action: 'ping' }));
    expect(await a.next((message) => message.type === 'pong')).toEqual({ type: 'pong' });
  });
});

describe('a refused subscription closes with a 4xxx code and a reason', () => {
  // Handshakes are built when run: the tokens exist only after beforeAll.
  it.each([
    ['no credential', () => ({}), STREAM_CLOSE.unauthorized, /credential/],
    ['a bad token', () => ({ token: 'not-a-jwt' }), STREAM_CLOSE.unauthorized, /credential/],
    ['the token in the URL alone, where access logs keep it', () => ({ query: { token: tokenA } }), STREAM_CLOSE.unauthorized, /credential/],
    ['the token in an Authorization header, which a browser cannot send', () => ({ headers: { authorization: `Bearer ${tokenA}` } }), STREAM_CLOSE.unauthorized, /credential/],
    ['the token in the URL beside the subprotocol', () => ({ token: tokenA, query: { token: tokenA } }), STREAM_CLOSE.badRequest, /token/],
    ['an unknown type', () => ({ token: tokenA, query: { types: 'CUSTOM,NOPE' } }), STREAM_CLOSE.badRequest, /types/],
    ['properties that are not JSON', () => ({ token: tokenA, query: { properties: '{plan' } }), STREAM_CLOSE.badRequest, /properties/],
    ['a resume point that is not an event id', () => ({ token: tokenA, query: { after: 'yesterday' } }), STREAM_CLOSE.badRequest, /after/],
    ['an unknown parameter', () => ({ token: tokenA, query: { tenant: 'x' } }), STREAM_CLOSE.badRequest, /tenant/],
    ['another tenant', () => ({ token: tokenA, query: { tenantId: TENANT_B } }), STREAM_CLOSE.forbidden, /tenant/],
  ])('%s', async (_what, handshake: () => StreamHandshake, code, reason) => {
    const closed = await subscribe(handshake()).closed;
    expect(closed.code).toBe(code);
    expect(closed.reason).toMatch(reason);
  });

  it('a credential without events:read, a write key among them', async () => {
    const writer = await app.token(TENANT_A, ['events:write']);
    expect(await subscribe({ token: writer }).closed).toEqual({ code: STREAM_CLOSE.forbidden, reason: expect.stringMatching(/events:read/) });

    const admin = await app.token(TENANT_A, ['admin']);
    const created = await callApi(app.runtime.url, 'POST', '/v1/keys', { token: admin, body: { name: 'site' } });
    expect(await subscribe({ token: created.body.key as string }).closed).toEqual({ code: STREAM_CLOSE.forbidden, reason: expect.stringMatching(/events:read/) });
  });

  it('a malformed frame from the client', async () => {
    const a = await subscribed({ token: tokenA });
    a.socket.send('hello');
    expect(await a.closed).toEqual({ code: STREAM_CLOSE.badRequest, reason: expect.stringMatching(/malformed frame/) });
  });

  it('keeps the token out of every log line', async () => {
    const lines: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error'] as const) vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));

    await subscribe({ token: tokenA, query: { types: 'NOPE' } }).closed;
    await subscribe({ token: tokenA, query: { token: tokenA } }).closed;
    const ok = await subscribed({ token: tokenA });
    await send(tokenA, someEvents(1));
    await ok.receivedEvents(1);

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes(tokenA))).toEqual([]);
  });
});
