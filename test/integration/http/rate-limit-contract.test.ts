import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_A, TENANT_B } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { callApi } from '../../support/api-client.js';

let app: RunningRuntime;

// Small buckets, so that a test can empty them quickly; one full batch still fits.
const REQUESTS_PER_SECOND = 5;
const EVENTS_PER_SECOND = 1000;

const post = (path: string, token: string, body: unknown) => callApi(app.runtime.url, 'POST', path, { token, body });

const events = (count: number) => ({ events: Array.from({ length: count }, (_, i) => ({ type: 'CUSTOM', category: 'load', action: `a${i % 7}` })) });

async function storedCount(tenantId: string): Promise<number> {
  const rows = await app.testDb.db.query<{ n: string | number }>('SELECT count(*) AS n FROM analytics_events WHERE tenant_id = $1', [tenantId]);
  return Number(rows[0]?.n);
}

type Answer = Awaited<ReturnType<typeof callApi>>;

/**
 * Twenty requests at once: no more pass than the burst plus what refilled while they were under
 * way, and the others are refused 429 problem+json with a Retry-After.
 */
async function floodPastTheRequestRate(send: () => Promise<Answer>): Promise<{ answers: Answer[]; limited: Answer[] }> {
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 20 }, send));
  const elapsedSeconds = (Date.now() - started) / 1000;

  const limited = answers.filter((answer) => answer.status === 429);
  expect(answers.length - limited.length).toBeLessThanOrEqual(REQUESTS_PER_SECOND + Math.ceil(REQUESTS_PER_SECOND * elapsedSeconds));
  expect(limited.length).toBeGreaterThan(0);
  expect(limited[0]?.headers.get('content-type')).toBe('application/problem+json');
  expect(Number(limited[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  return { answers, limited };
}

beforeAll(async () => {
  app = await startTestRuntime({
    rateLimits: {
      requests: { ratePerSecond: REQUESTS_PER_SECOND, burst: REQUESTS_PER_SECOND },
      events: { ratePerSecond: EVENTS_PER_SECOND, burst: EVENTS_PER_SECOND },
    },
  });
});

afterAll(async () => {
  await app.stop();
});

describe('per-tenant rate limits', () => {
  it('answer 429 problem+json with Retry-After past the request rate, and leave other tenants alone', async () => {
    const flooder = await app.token(TENANT_A);
    const { limited } = await floodPastTheRequestRate(() => post('/v1/events/batch', flooder, events(1)));

    expect(limited[0]?.body).toMatchObject({ status: 429, title: 'Too many requests' });
    const other = await post('/v1/events/batch', await app.token(TENANT_B), events(1));
    expect(other.status).toBe(200);
  });

  it('count events, not only requests: a second full batch within the second is refused whole', async () => {
    const tenant = 'aaaaaaaa-0000-4000-8000-000000000001';
    const token = await app.token(tenant);

    const first = await post('/v1/events/batch', token, events(1000));
    // The bucket refills 1,000 events a second: 900 fit again only if the first took 900 ms.
    const second = await post('/v1/events/batch', token, events(900));

    expect(first.status).toBe(200);
    expect(first.body.successful).toHaveLength(1000);
    expect(second.status).toBe(429);
    expect(second.body.detail).toContain('events per second');
  });

  it('never lose an accepted event because other requests were limited', async () => {
    const tenant = 'aaaaaaaa-0000-4000-8000-000000000002';
    const token = await app.token(tenant);
    // Eight requests of 300 events: five fit the request bucket, three of those the event bucket.
    const answers = await Promise.all(Array.from({ length: 8 }, () => post('/v1/events/batch', token, events(300))));

    const acceptedEvents = answers.filter((answer) => answer.status === 200).reduce((sum, answer) => sum + answer.body.successful.length, 0);
    const refusals = answers.filter((answer) => answer.status === 429).map((answer) => String(answer.body.detail));
    expect(refusals.some((detail) => detail.includes('requests per second'))).toBe(true);
    expect(refusals.some((detail) => detail.includes('events per second'))).toBe(true);
    await app.runtime.eventSource.drained();
    expect(await storedCount(tenant)).toBe(acceptedEvents);
  });

  it("cannot be used by whoever copies a browser's write key to lock out the tenant's people", async () => {
    const tenant = 'aaaaaaaa-0000-4000-8000-000000000003';
    const admin = await app.token(tenant, ['admin', 'events:write']);
    const created = await post('/v1/keys', admin, { name: 'public site' });
    const flood = await Promise.all(Array.from({ length: 20 }, () => post('/v1/events/batch', created.body.key, events(1))));
    expect(flood.some((answer) => answer.status === 429)).toBe(true);

    const own = await post('/v1/events/batch', admin, events(1));

    expect(own.status).toBe(200);
  });

  it("limit Segment's routes as ours, with the 429 and Retry-After its SDKs retry, storing every accepted event", async () => {
    const tenant = 'aaaaaaaa-0000-4000-8000-000000000004';
    const admin = await app.token(tenant, ['admin']);
    const { key } = (await post('/v1/keys', admin, { name: 'segment site' })).body;
    const basic = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
    const segmentBatch = { batch: [{ type: 'track', event: 'Signed Up', userId: 'u-1' }] };

    const { answers } = await floodPastTheRequestRate(() => callApi(app.runtime.url, 'POST', '/v1/batch', { headers: { authorization: basic }, body: segmentBatch }));

    await app.runtime.eventSource.drained();
    expect(await storedCount(tenant)).toBe(answers.filter((answer) => answer.status === 200).length);
  });
});
