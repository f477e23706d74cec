import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../../lambdas/shared/domain/limits.js';
import { TENANT_A, TENANT_B } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { rollupMismatches } from '../../support/rollup-check.js';
import { callApi, type CallOptions } from '../../support/api-client.js';

let app: RunningRuntime;
let tokenA: string;
let tokenB: string;

const call = (method: string, path: string, options: CallOptions = {}) => callApi(app.runtime.url, method, path, options);

const storedCount = async () => Number((await app.testDb.db.query<{ n: string | number }>('SELECT count(*) AS n FROM analytics_events'))[0]?.n);
const event = <T extends Record<string, unknown>>(overrides: T = {} as T) => ({ type: 'CUSTOM', category: 'test', action: 'run', ...overrides });

beforeAll(async () => {
  app = await startTestRuntime();
  tokenA = await app.token(TENANT_A);
  tokenB = await app.token(TENANT_B);
});

afterAll(async () => {
  await app.stop();
});

describe('POST /v1/events', () => {
  it('answers 202 with the event id, and the event is then readable with its details', async () => {
    const sent = event({ type: 'USER_ACTION', userId: randomUUID(), label: 'Sign up', value: 1, properties: { plan: 'pro' }, context: { page: '/signup', ipAddress: '203.0.113.9' } });

    const accepted = await call('POST', '/v1/events', { token: tokenA, body: sent });
    await app.runtime.eventSource.drained();
    const read = await call('GET', `/v1/events/${accepted.body.eventId}`, { token: tokenA });

    expect(accepted.status).toBe(202);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      eventId: accepted.body.eventId,
      type: 'USER_ACTION',
      label: 'Sign up',
      value: 1,
      properties: { plan: 'pro' },
      context: { page: '/signup', ipAddress: '203.0.113.0' },
      receivedAt: expect.any(String),
      storedAt: expect.any(String),
    });
    expect(Date.parse(read.body.storedAt)).toBeGreaterThanOrEqual(Date.parse(read.body.receivedAt));
  });

  it('answers 400 problem+json naming every bad field, and stores nothing', async () => {
    const before = await storedCount();

    const answer = await call('POST', '/v1/events', { token: tokenA, body: { type: 'NOPE', category: 7, value: 'high', userId: 'me', extra: true } });
    await app.runtime.eventSource.drained();

    expect(answer.status).toBe(400);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ type: '/problems/invalid-input', title: 'Invalid input', status: 400 });
    expect(answer.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(['action', 'category', 'extra', 'type', 'userId', 'value']);
    expect(await storedCount()).toBe(before);
  });

  it('answers 400 to malformed JSON and to an empty body', async () => {
    const malformed = await call('POST', '/v1/events', { token: tokenA, raw: '{"type": "CUSTOM",' });
    const empty = await call('POST', '/v1/events', { token: tokenA, raw: '' });
    expect([malformed.status, empty.status]).toEqual([400, 400]);
    expect(malformed.body.type).toBe('/problems/malformed-body');
  });

  it('answers 400 to a body nested 100,000 levels deep instead of overflowing the stack', async () => {
    const depth = 100_000;
    const raw = `{"events":[{"type":"CUSTOM","category":"c","action":"a","properties":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`;
    const batch = await call('POST', '/v1/events/batch', { token: tokenA, raw });
    const single = await call('POST', '/v1/events', { token: tokenA, raw: raw.slice('{"events":['.length, -2) });
    expect([batch.status, single.status]).toEqual([400, 400]);
    expect(batch.body.errors[0].message).toMatch(/nests deeper/);
  });

  it('answers 413 to an event over 32 KB', async () => {
    const answer = await call('POST', '/v1/events', { token: tokenA, body: event({ properties: { blob: 'x'.repeat(33 * 1024) } }) });
    expect(answer.status).toBe(413);
    expect(answer.contentType).toBe('application/problem+json');
  });

  it('lists the oversized event in the errors of its 413', async () => {
    const answer = await call('POST', '/v1/events', { token: tokenA, body: event({ properties: { blob: 'x'.repeat(33 * 1024) } }) });
    expect(answer.body.errors).toEqual([{ path: '', message: expect.stringMatching(/the limit is 32768/) }]);
  });

  it('answers 400 to a body that is not UTF-8 instead of storing U+FFFD in its place', async () => {
    const before = await storedCount();
    const bytes = Buffer.concat([Buffer.from('{"type":"CUSTOM","category":"c","action":"a","label":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);

    const answer = await call('POST', '/v1/events', { token: tokenA, raw: bytes });
    await app.runtime.eventSource.drained();

    expect(answer.status).toBe(400);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.body.errors).toEqual([{ path: '', message: 'The body is not valid UTF-8.' }]);
    expect(await storedCount()).toBe(before);
  });

  it('answers 400 naming the property to a number past the largest double, instead of storing null', async () => {
    const answer = await call('POST', '/v1/events', { token: tokenA, raw: '{"type":"CUSTOM","category":"c","action":"a","properties":{"n":1e400,"ok":1}}' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'properties.n', message: 'is not a finite number' }]);
  });

  it('answers 400 naming value to a value past the largest double', async () => {
    const answer = await call('POST', '/v1/events', { token: tokenA, raw: '{"type":"CUSTOM","category":"c","action":"a","value":-1e400}' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error: { path: string }) => error.path)).toEqual(['value']);
  });

  it('answers 401 without a token or with a forged one, and 403 without the scope', async () => {
    const forged = `${tokenA.slice(0, -4)}AAAA`;
    const readOnly = await app.token(TENANT_A, ['events:read']);

    const missing = await call('POST', '/v1/events', { body: event() });
    const bad = await call('POST', '/v1/events', { token: forged, body: event() });
    const noScope = await call('POST', '/v1/events', { token: readOnly, body: event() });

    expect([missing.status, bad.status, noScope.status]).toEqual([401, 401, 403]);
    expect(noScope.body.detail).toMatch(/events:write/);
  });

  it('stores hostile strings verbatim as data and leaves the tables intact', async () => {
    const hostile = `'); DROP TABLE analytics_events; -- "\\ <script>`;
    const sent = event({ category: hostile.slice(0, 100), action: "a' OR '1'='1", label: hostile, sessionId: '$1; SELECT pg_sleep(5)', properties: { [hostile]: hostile, "k'->>'x": { '$ne': null } } });

    const accepted = await call('POST', '/v1/events', { token: tokenA, body: sent });
    await app.runtime.eventSource.drained();
    const read = await call('GET', `/v1/events/${accepted.body.eventId}`, { token: tokenA });

    expect(read.body).toMatchObject({ category: sent.category, action: sent.action, label: hostile, sessionId: sent.sessionId, properties: sent.properties });
  });
});

describe('POST /v1/events/batch', () => {
  it('accepts 1000 events and every one of them becomes readable', async () => {
    const before = await storedCount();
    const events = Array.from({ length: 1000 }, (_, index) => event({ id: randomUUID(), action: `a${index % 7}`, value: index }));

    const answer = await call('POST', '/v1/events/batch', { token: tokenA, body: { events } });
    await app.runtime.eventSource.drained();

    expect(answer.status).toBe(200);
    expect(answer.body.total).toBe(1000);
    expect(answer.body.successful).toEqual(events.map((item) => item.id));
    expect(answer.body.failed).toEqual([]);
    expect(await storedCount()).toBe(before + 1000);
    expect(await rollupMismatches(app.testDb.db)).toEqual([]);
  });

  it('reports each bad item by index with the zod path and keeps the valid ones', async () => {
    const good = event({ id: randomUUID() });
    const answer = await call('POST', '/v1/events/batch', {
      token: tokenA,
      body: { events: [good, event({ type: 'USER_ACTION' }), { category: 'x' }, event({ properties: { blob: 'y'.repeat(33 * 1024) } })] },
    });
    await app.runtime.eventSource.drained();

    expect(answer.status).toBe(200);
    expect(answer.body.successful).toEqual([good.id]);
    expect(answer.body.failed).toEqual([
      { index: 1, error: 'invalid event', errors: [{ path: 'userId', message: expect.any(String) }] },
      { index: 2, error: 'invalid event', errors: expect.arrayContaining([{ path: 'type', message: expect.any(String) }, { path: 'action', message: expect.any(String) }]) },
      { index: 3, error: 'event too large', errors: [expect.objectContaining({ path: '' })] },
    ]);
    expect((await call('GET', `/v1/events/${good.id}`, { token: tokenA })).status).toBe(200);
  });

  it('answers 400 to a batch of 0 or 1001 events, naming the field', async () => {
    const empty = await call('POST', '/v1/events/batch', { token: tokenA, body: { events: [] } });
    const tooMany = await call('POST', '/v1/events/batch', { token: tokenA, body: { events: Array(1001).fill(event()) } });
    expect([empty.status, tooMany.status]).toEqual([400, 400]);
    expect(empty.body.errors[0].path).toBe('events');
    expect(tooMany.body.errors[0].path).toBe('events');
  });

  it('answers 413 to a body over 5 MiB and stores nothing', async () => {
    const before = await storedCount();
    const answer = await call('POST', '/v1/events/batch', { token: tokenA, raw: JSON.stringify({ events: [event({ label: 'x'.repeat(MAX_BODY_BYTES) })] }) });
    expect(answer.status).toBe(413);
    expect(await storedCount()).toBe(before);
  });

  it('answers 413 to bodies of the limit plus one and plus two bytes, naming the limit and the body in errors', async () => {
    for (const size of [MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 2]) {
      const answer = await call('POST', '/v1/events/batch', { token: tokenA, raw: ' '.repeat(size - 2) + '{}' });
      const message = `The body is ${size} bytes; the limit is ${MAX_BODY_BYTES}.`;
      expect(answer.status).toBe(413);
      expect(answer.body).toMatchObject({ status: 413, detail: message, errors: [{ path: '', message }] });
    }
  });

  it('takes a body of exactly the limit', async () => {
    const answer = await call('POST', '/v1/events/batch', { token: tokenA, raw: `{"events":[]}${' '.repeat(MAX_BODY_BYTES - 13)}` });
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].path).toBe('events');
  });

  it('accepts a duplicate of an id already sent and stores it once, even with another timestamp', async () => {
    const id = randomUUID();
    const first = await call('POST', '/v1/events/batch', { token: tokenA, body: { events: [event({ id, timestamp: new Date(Date.now() - 60_000).toISOString() })] } });
    const retry = await call('POST', '/v1/events/batch', { token: tokenA, body: { events: [event({ id }), event({ id })] } });
    await app.runtime.eventSource.drained();

    expect(first.body.successful).toEqual([id]);
    expect(retry.body.successful).toEqual([id, id]);
    expect(Number((await app.testDb.db.query<{ n: number }>('SELECT count(*) AS n FROM analytics_events WHERE event_id = $1', [id]))[0]?.n)).toBe(1);
  });

  it('corrects clock skew with sentAt and keeps the original timestamp', async () => {
    const id = randomUUID();
    const deviceNow = Date.now() + 3 * 3_600_000; // a device clock three hours fast
    const before = Date.now();
    await call('POST', '/v1/events/batch', { token: tokenA, body: { sentAt: new Date(deviceNow).toISOString(), events: [event({ id, timestamp: new Date(deviceNow - 10_000).toISOString() })] } });
    await app.runtime.eventSource.drained();

    const read = await call('GET', `/v1/events/${id}`, { token: tokenA });
    const stored = Date.parse(read.body.timestamp);
    expect(stored).toBeGreaterThanOrEqual(before - 10_000 - 1000);
    expect(stored).toBeLessThanOrEqual(Date.now() - 10_000 + 1000);
    expect(read.body.metadata.originalTimestamp).toBe(new Date(deviceNow - 10_000).toISOString());
  });
});

describe('GET /v1/events/{eventId}', () => {
  it('answers 404 for another tenant’s event, exactly as for a missing one', async () => {
    const accepted = await call('POST', '/v1/events', { token: tokenB, body: event() });
    await app.runtime.eventSource.drained();

    const otherTenant = await call('GET', `/v1/events/${accepted.body.eventId}`, { token: tokenA });
    const missing = await call('GET', `/v1/events/${randomUUID()}`, { token: tokenA });

    expect(otherTenant.status).toBe(404);
    expect(missing.status).toBe(404);
    expect((await call('GET', `/v1/events/${accepted.body.eventId}`, { token: tokenB })).status).toBe(200);
  });

  it('answers 404 problem+json, not a 500, to a path whose percent-encoding is broken', async () => {
    const answer = await call('GET', '/v1/events/%E0%A4%A', { token: tokenA });
    expect(answer.status).toBe(404);
    expect(answer.body.type).toBe('/problems/not-found');
  });

  it('answers 400 to an id that is not a UUID, naming it', async () => {
    const answer = await call('GET', `/v1/events/${encodeURIComponent("1' OR 1=1")}`, { token: tokenA });
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].path).toBe('eventId');
  });
});

describe('request headers', () => {
  it('answers 431 problem+json to headers over 10 KB', async () => {
    const response = await fetch(`${app.runtime.url}/v1/health`, { headers: { 'x-padding': 'x'.repeat(12 * 1024) } });
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 431 });
  });
});

describe('GET /v1/health', () => {
  it('answers 200 without credentials', async () => {
    expect(await call('GET', '/v1/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});
