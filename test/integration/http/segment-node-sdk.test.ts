import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentEventId, segmentUserUuid } from '../../../lambdas/shared/domain/segment-messages.js';
import { TENANT_A } from '../../support/factories.js';
import { callApi } from '../../support/api-client.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';

let app: RunningRuntime;
let writeKey: string;
let reader: string;

const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** Rows stored with this action, once the writer has caught up with `expected` of them. */
async function storedCount(action: string, expected: number): Promise<number> {
  let count = 0;
  for (let attempt = 0; attempt < 400; attempt++) {
    const rows = await app.testDb.db.query<{ count: string }>('SELECT count(*)::text AS count FROM analytics_events WHERE action = $1', [action]);
    count = Number(rows[0]?.count ?? 0);
    if (count >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return count;
}

async function queryByAction(action: string) {
  const answer = await callApi(app.runtime.url, 'POST', '/v1/events/query', {
    token: reader,
    body: { actions: [action], startTime: new Date(Date.now() - 3600_000).toISOString(), endTime: new Date(Date.now() + 60_000).toISOString(), limit: 100 },
  });
  expect(answer.status).toBe(200);
  return answer.body.events as Array<Record<string, any>>;
}

const client = (host: string, overrides: Partial<ConstructorParameters<typeof Analytics>[0]> = {}) =>
  new Analytics({ writeKey, host, flushInterval: 50, ...overrides });

beforeAll(async () => {
  app = await startTestRuntime();
  const admin = await app.token(TENANT_A, ['admin']);
  reader = await app.token(TENANT_A, ['events:read']);
  writeKey = (await callApi(app.runtime.url, 'POST', '/v1/keys', { token: admin, body: { name: 'segment sdk' } })).body.key;
});

afterAll(async () => {
  await app?.stop();
});

describe('@segment/analytics-node, unmodified, pointed at the local runtime', () => {
  it('sends track, page and identify that are stored and queryable, mapped onto our events', async () => {
    const analytics = client(app.runtime.url);
    const userId = `user-${randomUUID()}`;

    analytics.track({ userId, event: 'Order Completed', properties: { category: 'Checkout', revenue: 42.5, currency: 'EUR', email: 'buyer@example.com' } });
    analytics.page({ userId, name: 'Pricing', properties: { url: 'https://example.com/pricing', title: 'Pricing' } });
    analytics.identify({ userId, traits: { plan: 'pro', email: 'buyer@example.com' } });
    await analytics.closeAndFlush();

    expect(await storedCount('Order Completed', 1)).toBe(1);
    const [track] = await queryByAction('Order Completed');
    expect(track).toMatchObject({
      type: 'USER_ACTION',
      category: 'Checkout',
      value: 42.5,
      userId: segmentUserUuid(TENANT_A, userId),
      properties: { revenue: 42.5, currency: 'EUR', email: '[email]' },
      metadata: { source: 'segment', segment: { type: 'track', userId } },
      context: { segment: { library: { name: '@segment/analytics-node' } } },
    });
    expect(track?.eventId).toBe(segmentEventId(TENANT_A, track?.metadata.segment.messageId));
    expect(await storedCount('Pricing', 1)).toBe(1);
    expect((await queryByAction('Pricing'))[0]).toMatchObject({ category: 'page', properties: { title: 'Pricing' } });
    expect(await storedCount('identify', 1)).toBeGreaterThanOrEqual(1);
    const identified = (await queryByAction('identify')).find((event) => event.metadata.segment.userId === userId);
    expect(identified).toMatchObject({ category: 'identify', properties: { plan: 'pro', email: '[email]' } });
  });

  it('flushes 1,000 events, all stored', async () => {
    const analytics = client(app.runtime.url, { flushAt: 250 });
    const action = `bulk-${randomUUID()}`;

    for (let index = 0; index < 1000; index++) analytics.track({ anonymousId: `anon-${index % 37}`, event: action, properties: { index } });
    await analytics.closeAndFlush();

    expect(await storedCount(action, 1000)).toBe(1000);
  });

  it('retries after a 503 and the retried batch is stored once', async () => {
    // A proxy that lets the first batch reach the runtime, then answers 503 as if it had failed.
    let requests = 0;
    const proxy: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests++;
        void fetch(`${app.runtime.url}${request.url ?? '/'}`, { method: request.method, headers: request.headers as Record<string, string>, body: Buffer.concat(chunks) }).then(async (answer) => {
          const body = await answer.text();
          if (requests === 1) response.writeHead(503, { 'content-type': 'application/json' }).end('{}');
          else response.writeHead(answer.status, { 'content-type': 'application/json' }).end(body);
        });
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const analytics = client(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, { maxRetries: 3 });
    const action = `retried-${randomUUID()}`;

    analytics.track({ userId: 'u-1', event: action, messageId: `msg-${action}` });
    await analytics.closeAndFlush();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));

    expect(requests).toBe(2);
    expect(await storedCount(action, 1)).toBe(1);
    // The writer has had the time to store a second copy, were it not deduplicated.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await storedCount(action, 2)).toBe(1);
  });
});

describe("RudderStack's Node SDK, unmodified", () => {
  it('sends a gzip batch with Basic auth that is stored', async () => {
    const rudder = new RudderAnalytics(writeKey, { dataPlaneUrl: app.runtime.url, flushInterval: 50, logLevel: 'error' });
    const action = `rudder-${randomUUID()}`;

    rudder.track({ userId: 'rudder-user', event: action, properties: { category: 'Rudder' } });
    rudder.identify({ userId: 'rudder-user', traits: { plan: 'free' } });
    await rudder.flush();

    expect(await storedCount(action, 1)).toBe(1);
    expect((await queryByAction(action))[0]).toMatchObject({ category: 'Rudder', userId: segmentUserUuid(TENANT_A, 'rudder-user') });
  });
});

describe('the Segment routes', () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    callApi(app.runtime.url, 'POST', path, { raw: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers: { 'content-type': 'text/plain', ...headers } });

  it('take the write key from the body too, and a text/plain body', async () => {
    const action = `body-key-${randomUUID()}`;

    const answer = await post('/v1/t', { writeKey, type: 'track', event: action, anonymousId: 'a-1', messageId: randomUUID() });

    expect(answer).toMatchObject({ status: 200, body: { success: true, total: 1, failed: [] } });
    expect(await storedCount(action, 1)).toBe(1);
    // No context sent, so nothing of Segment's to keep there; the ids stay in the metadata.
    const [stored] = await queryByAction(action);
    expect(stored?.context).not.toHaveProperty('segment');
    expect(stored?.metadata.segment.messageId).toBeDefined();
  });

  it('inflate a gzip body', async () => {
    const action = `gzip-${randomUUID()}`;

    const answer = await post('/v1/batch', gzipSync(JSON.stringify({ batch: [{ type: 'track', event: action, userId: 'u-9' }] })), { authorization: basic(writeKey), 'content-encoding': 'gzip' });

    expect(answer).toMatchObject({ status: 200, body: { success: true, total: 1 } });
    expect(await storedCount(action, 1)).toBe(1);
  });

  it('merge the batch context and integrations into each message', async () => {
    const action = `merged-${randomUUID()}`;
    const batch = [
      { type: 'track', event: action, userId: 'u-2', context: { locale: 'de-DE' } },
      { type: 'track', event: action, userId: 'u-3' },
    ];

    await post('/v1/batch', { batch, context: { locale: 'en-GB', app: { name: 'shop' } }, integrations: { All: false } }, { authorization: basic(writeKey) });

    expect(await storedCount(action, 2)).toBe(2);
    const locales = (await queryByAction(action)).map((event) => [event.context.locale, event.context.segment.app.name, event.metadata.segment.integrations.All]);
    expect(locales.sort()).toEqual([
      ['de-DE', 'shop', false],
      ['en-GB', 'shop', false],
    ]);
  });

  it('report bad messages by index and store the others', async () => {
    const action = `partial-${randomUUID()}`;
    const batch = [
      { type: 'track', event: action, userId: 'ok-1' },
      { type: 'track', event: action, userId: 'ok-2', messageId: 'x'.repeat(101) },
      { type: 'track', event: action, userId: 42 },
      { type: 'launch', event: action, userId: 'ok-3' },
      { type: 'track', event: action },
    ];

    const answer = await post('/v1/batch', { batch }, { authorization: basic(writeKey) });

    expect(answer.status).toBe(200);
    expect(answer.body.successful).toHaveLength(1);
    expect(answer.body.failed.map((item: { index: number; errors: Array<{ path: string }> }) => [item.index, item.errors[0]?.path])).toEqual([
      [1, 'messageId'],
      [2, 'userId'],
      [3, 'type'],
      [4, 'userId'],
    ]);
    expect(await storedCount(action, 1)).toBe(1);
  });

  it('refuse a batch over 2,500 events or 500 KB with a 400 that names the limit', async () => {
    const many = await post('/v1/batch', { batch: Array.from({ length: 2501 }, () => ({ type: 'track', event: 'x', userId: 'u' })) }, { authorization: basic(writeKey) });
    const big = await post('/v1/batch', { batch: [{ type: 'track', event: 'x', userId: 'u', properties: { blob: 'x'.repeat(520 * 1024) } }] }, { authorization: basic(writeKey) });

    expect(many.status).toBe(400);
    expect(JSON.stringify(many.body.errors)).toContain('2500');
    expect(big.status).toBe(400);
    expect(big.body.detail).toContain(String(500 * 1024));
  });

  it('answer 400 for malformed JSON and 401 for a missing, unknown or revoked key', async () => {
    const admin = await app.token(TENANT_A, ['admin']);
    const revoked = (await callApi(app.runtime.url, 'POST', '/v1/keys', { token: admin, body: { name: 'to revoke' } })).body;
    await callApi(app.runtime.url, 'DELETE', `/v1/keys/${revoked.keyId}`, { token: admin });
    const message = { type: 'track', event: 'x', userId: 'u' };

    expect((await post('/v1/track', '{"type":', { authorization: basic(writeKey) })).status).toBe(400);
    expect((await post('/v1/track', message)).status).toBe(401);
    expect((await post('/v1/track', message, { authorization: basic('wk_0000000000000000_unknown') })).status).toBe(401);
    expect((await post('/v1/track', message, { authorization: basic(revoked.key) })).status).toBe(401);
  });

  it('challenge a 401 with HTTP Basic, the scheme the SDKs send the write key in', async () => {
    const answer = await post('/v1/batch', { batch: [{ type: 'track', event: 'x', userId: 'u' }] }, { authorization: basic('wk_0000000000000000_unknown') });

    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Basic realm="write key", charset="UTF-8"');
  });

  it('answer a CORS preflight from any origin with the headers analytics-next sends', async () => {
    const answer = await fetch(`${app.runtime.url}/v1/b`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-headers': 'authorization,x-retry-count' } });

    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.headers.get('access-control-allow-headers')).toContain('x-retry-count');
  });

  it('serve the settings of a live write key with apiHost set to this deployment, and 404 otherwise', async () => {
    const settings = await callApi(app.runtime.url, 'GET', `/v1/projects/${writeKey}/settings`);
    const unknown = await callApi(app.runtime.url, 'GET', '/v1/projects/wk_0000000000000000_nope/settings');

    expect(settings.status).toBe(200);
    expect(settings.body.integrations['Segment.io']).toMatchObject({ apiKey: writeKey, apiHost: `${new URL(app.runtime.url).host}/v1`, protocol: 'http' });
    expect(unknown.status).toBe(404);
  });
});
