import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLocalConfig } from '../../../lambdas/shared/config.js';
import { startTestDynamo, type TestDynamo } from '../../support/embedded-dynamo.js';
import { TENANT_A, TENANT_B } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { callApi } from '../../support/api-client.js';

let app: RunningRuntime;
// A DynamoDB of the test's own, so that the test can take it away.
let dynamo: TestDynamo;
let tokenA: string;
let tokenB: string;

const call = (path: string, token: string) => callApi(app.runtime.url, 'GET', path, { token });
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const event = (overrides: Record<string, unknown>) => ({ type: 'CUSTOM', category: 'test', action: 'run', ...overrides });
const totals = (counts: Array<{ type: string; category: string; count: number }>) => {
  const byKey: Record<string, number> = {};
  for (const count of counts) byKey[`${count.type} ${count.category}`] = (byKey[`${count.type} ${count.category}`] ?? 0) + count.count;
  return byKey;
};

beforeAll(async () => {
  dynamo = await startTestDynamo([]);
  const config = loadLocalConfig({});
  app = await startTestRuntime({ dynamo: { ...config.dynamo, endpoint: dynamo.endpoint } });
  tokenA = await app.token(TENANT_A);
  tokenB = await app.token(TENANT_B);
  const events = [
    ...Array.from({ length: 5 }, () => event({ type: 'ERROR', category: 'checkout', timestamp: minutesAgo(2) })),
    ...Array.from({ length: 3 }, () => event({ type: 'ERROR', category: 'search', timestamp: minutesAgo(0) })),
    event({ type: 'PERFORMANCE', category: 'checkout', value: 12, timestamp: minutesAgo(90) }),
  ];
  expect((await callApi(app.runtime.url, 'POST', '/v1/events/batch', { token: tokenA, body: { events } })).status).toBe(200);
  expect((await callApi(app.runtime.url, 'POST', '/v1/events', { token: tokenB, body: event({ category: 'theirs' }) })).status).toBe(202);
  await app.runtime.eventSource.drained();
});

afterAll(async () => {
  await app.stop();
  await dynamo.stop();
});

describe('GET /v1/counters/live', () => {
  it('counts the last hour per minute, type and category, zero minutes filled in', async () => {
    const answer = await call('/v1/counters/live', tokenA);

    expect(answer.status).toBe(200);
    expect(Date.parse(answer.body.to) - Date.parse(answer.body.from)).toBe(60 * 60_000);
    // Two series (ERROR checkout, ERROR search), every one of the 60 minutes.
    expect(answer.body.counts).toHaveLength(120);
    expect(totals(answer.body.counts)).toEqual({ 'ERROR checkout': 5, 'ERROR search': 3 });
  });

  it('takes longer windows up to the TTL and filters by type and category', async () => {
    const wide = await call('/v1/counters/live?window=2h', tokenA);
    const filtered = await call('/v1/counters/live?window=2h&types=PERFORMANCE,SECURITY&categories=checkout', tokenA);

    expect(totals(wide.body.counts)).toEqual({ 'ERROR checkout': 5, 'ERROR search': 3, 'PERFORMANCE checkout': 1 });
    expect(totals(filtered.body.counts)).toEqual({ 'PERFORMANCE checkout': 1 });
    expect(filtered.body.counts).toHaveLength(120);
  });

  it("gives a tenant its own counts only", async () => {
    const answer = await call('/v1/counters/live?window=5m', tokenB);

    expect(totals(answer.body.counts)).toEqual({ 'CUSTOM theirs': 1 });
  });

  it('refuses a window that is not a duration or longer than the TTL, naming window, and an unknown type', async () => {
    for (const window of ['7h', '10s', 'soon', '0m']) {
      const answer = await call(`/v1/counters/live?window=${window}`, tokenA);
      expect(answer.status, window).toBe(400);
      expect(answer.body.errors.map((issue: { path: string }) => issue.path), window).toEqual(['window']);
    }
    const unknown = await call('/v1/counters/live?types=NOPE', tokenA);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].path).toMatch(/^types/);
  });

  it('needs events:read', async () => {
    expect((await call('/v1/counters/live', await app.token(TENANT_A, ['events:write']))).status).toBe(403);
  });

  it('answers 503 with Retry-After while DynamoDB is down, and ingestion goes on', async () => {
    await dynamo.stop();

    const answer = await call('/v1/counters/live', tokenA);
    const tracked = await callApi(app.runtime.url, 'POST', '/v1/events', { token: tokenA, body: event({}) });
    await app.runtime.eventSource.drained();

    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(tracked.status).toBe(202);
    const [stored] = await app.testDb.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM analytics_events WHERE category = 'test'`);
    expect(Number(stored?.n)).toBe(1);
    const [waiting] = await app.testDb.db.query<{ n: string | number }>('SELECT count(*) AS n FROM live_counter_deltas');
    expect(Number(waiting?.n)).toBe(1);
  });
});
