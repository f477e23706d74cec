// npm run bench:segment [-- --events 20000 --rounds 3 --large 20]
// Black box: `bin/local.ts` as its own process on real Postgres. Per round, the same events go
// once through /v1/batch from @segment/analytics-node (unmodified, batches of 1,000) and once
// through our /v1/events/batch (batches of 1,000), alternating which goes first; each is timed
// until every event is stored. Then `--large` Segment batches of just under 500 KB are posted
// one after another and their request latency is reported.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Analytics } from '@segment/analytics-node';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { SEGMENT_MAX_BATCH_BYTES } from '../lambdas/shared/domain/limits.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { BENCH_JWT_SECRET, startLocalServer } from './support/local-server.js';
import { benchServerUrl, median, percentile } from './support/stats.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' }, large: { type: 'string', default: '20' }, port: { type: 'string', default: '3141' } } });
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const LARGE = Number(values.large);
const BATCH = 1000;
const TENANT = '00000000-0000-4000-8000-0000000000b7';

interface LogicalEvent {
  action: string;
  category: string;
  user: string;
  anonymousId: string;
  properties: Record<string, unknown>;
}

function logicalEvents(count: number): LogicalEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    action: ['Product Viewed', 'Product Added', 'Checkout Started'][index % 3] as string,
    category: ['catalog', 'cart', 'checkout'][index % 3] as string,
    user: randomUUID(),
    anonymousId: randomUUID(),
    properties: { sku: `sku-${index % 400}`, price: (index % 90) + 0.99, currency: 'EUR', page: `/p/${index % 40}` },
  }));
}

const ourEvent = (event: LogicalEvent) => ({
  id: randomUUID(),
  type: 'USER_ACTION',
  category: event.category,
  action: event.action,
  userId: event.user,
  sessionId: event.anonymousId,
  properties: { ...event.properties, category: event.category },
  timestamp: new Date().toISOString(),
});

const percentiles = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? NaN };
};

async function main(): Promise<void> {
  const bench = await createServerDatabase(benchServerUrl(), 'bench_segment');
  const dataDir = await mkdtemp(join(tmpdir(), 'tracker-bench-segment-'));
  const client = new pg.Client({ connectionString: bench.url });
  await client.connect();
  const server = await startLocalServer(bench.url ?? '', dataDir, { PORT: values.port });
  const admin = await mintToken({ secret: BENCH_JWT_SECRET, tenantId: TENANT, subject: 'bench', scopes: ['admin', 'events:write'] });
  const created = await fetch(`${server.url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) });
  const { key: writeKey } = (await created.json()) as { key: string };

  const stored = async () => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM analytics_events')).rows[0]?.n);
  const reset = async () => {
    await client.query('TRUNCATE analytics_events, event_rollups, event_dedupe, audit_log, event_sets');
    await client.query('CHECKPOINT');
  };
  /** The writer deletes a message once its events commit: an empty queue means all stored. */
  const drained = async (expected: number) => {
    while ((await client.query('SELECT 1 FROM local_queue.messages WHERE dead_lettered_at IS NULL LIMIT 1')).rowCount) await new Promise((resolve) => setTimeout(resolve, 5));
    const count = await stored();
    if (count !== expected) throw new Error(`${count} events stored of ${expected}`);
  };

  /** analytics-node as an application uses it: one call per event, then closeAndFlush. */
  const viaSegmentSdk = async (events: LogicalEvent[]) => {
    // A long request timeout: on a loaded machine a batch can take more than the default 10 s.
    const analytics = new Analytics({ writeKey, host: server.url, flushAt: BATCH, flushInterval: 10_000, maxRetries: 3, httpRequestTimeout: 120_000 });
    let failures = 0;
    let reason: unknown;
    analytics.on('error', (error) => {
      failures++;
      reason ??= error;
    });
    const started = performance.now();
    for (const event of events) analytics.track({ userId: event.user, anonymousId: event.anonymousId, event: event.action, properties: { ...event.properties, category: event.category } });
    await analytics.closeAndFlush();
    if (failures > 0) throw new Error(`analytics-node reported ${failures} delivery errors`, { cause: reason });
    await drained(events.length);
    return performance.now() - started;
  };

  /** The same events through our own batch route, the batches sent at once as the SDK does. */
  const viaOurBatch = async (events: LogicalEvent[]) => {
    const token = await mintToken({ secret: BENCH_JWT_SECRET, tenantId: TENANT, subject: 'bench', scopes: ['events:write'] });
    const started = performance.now();
    const batches = Array.from({ length: Math.ceil(events.length / BATCH) }, (_, index) => events.slice(index * BATCH, (index + 1) * BATCH).map(ourEvent));
    await Promise.all(
      batches.map(async (batch) => {
        const response = await fetch(`${server.url}/v1/events/batch`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ events: batch, sentAt: new Date().toISOString() }) });
        const receipt = (await response.json()) as { successful?: string[] };
        if (receipt.successful?.length !== batch.length) throw new Error(`our batch answered ${response.status}`);
      }),
    );
    await drained(events.length);
    return performance.now() - started;
  };

  /** Segment messages as analytics-node writes them, as many as fit just under 500 KB. */
  const largeBatchBody = (): string => {
    const batch: unknown[] = [];
    const body = () => JSON.stringify({ batch, sentAt: new Date().toISOString(), writeKey });
    for (const event of logicalEvents(2500)) {
      batch.push({ type: 'track', event: event.action, userId: event.user, anonymousId: event.anonymousId, properties: event.properties, messageId: randomUUID(), timestamp: new Date().toISOString(), context: { library: { name: '@segment/analytics-node', version: '3.1.0' } } });
      if (Buffer.byteLength(body()) > SEGMENT_MAX_BATCH_BYTES - 1024) {
        batch.pop();
        break;
      }
    }
    return body();
  };

  try {
    // Warm-up: the server's first requests compile and connect; not measured.
    await reset();
    await viaSegmentSdk(logicalEvents(BATCH));
    await reset();
    await viaOurBatch(logicalEvents(BATCH));

    const rounds: Array<{ segment: number; ours: number }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const events = logicalEvents(EVENTS);
      const order: Array<'segment' | 'ours'> = round % 2 === 1 ? ['segment', 'ours'] : ['ours', 'segment'];
      const rates: Record<string, number> = {};
      for (const which of order) {
        await reset();
        const ms = which === 'segment' ? await viaSegmentSdk(events) : await viaOurBatch(events);
        rates[which] = EVENTS / (ms / 1000);
      }
      rounds.push({ segment: rates['segment'] ?? NaN, ours: rates['ours'] ?? NaN });
      console.log(`round ${round} (${order.join(' then ')}): analytics-node -> /v1/batch ${rates['segment']?.toFixed(0)} ev/s, /v1/events/batch ${rates['ours']?.toFixed(0)} ev/s, ratio ${((rates['segment'] ?? 0) / (rates['ours'] ?? 1)).toFixed(2)}; load ${loadavg()[0]?.toFixed(1)}`);
    }

    await reset();
    const body = largeBatchBody();
    const count = (JSON.parse(body) as { batch: unknown[] }).batch.length;
    const latencies: number[] = [];
    for (let index = 0; index < LARGE; index++) {
      const sent = performance.now();
      const response = await fetch(`${server.url}/v1/batch`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`, 'content-type': 'application/json' }, body });
      const receipt = (await response.json()) as { successful?: string[] };
      latencies.push(performance.now() - sent);
      if (receipt.successful?.length !== count) throw new Error(`a 500 KB batch answered ${response.status}`);
    }
    const large = percentiles(latencies);

    console.log(`\n${EVENTS} events per round, batches of ${BATCH}, ${ROUNDS} rounds alternating, server process on PostgreSQL, load average ${loadavg().map((load) => load.toFixed(1)).join(' ')}`);
    console.log(`until stored: analytics-node -> /v1/batch median ${median(rounds.map((round) => round.segment)).toFixed(0)} ev/s; /v1/events/batch median ${median(rounds.map((round) => round.ours)).toFixed(0)} ev/s`);
    console.log(`ratio (median of rounds): ${median(rounds.map((round) => round.segment / round.ours)).toFixed(2)} (goal >= 0.8)`);
    console.log(`${LARGE} Segment batches of ${Buffer.byteLength(body)} bytes (${count} messages), one after another: p50 ${large.p50.toFixed(0)} ms, p95 ${large.p95.toFixed(0)} ms, max ${large.max.toFixed(0)} ms`);
  } finally {
    await server.stop();
    await client.end();
    await bench.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
