// npm run bench:segment [-- --events 20000 --rounds 4 --large 20 --cpu-prof DIR]
// Black box: `bin/local.ts` as its own process on real Postgres, and each client as a process
// of its own (bench/support/segment-client.ts), sending through HTTP. Per round and mode, the
// same events go once through /v1/batch from @segment/analytics-node (unmodified, batches of
// 1,000) and once through our /v1/events/batch (batches of 1,000), alternating which goes
// first; each is timed from `go` until every event is stored, and until the last request was
// answered, which tells the ingest function's time from the writer's. `replay` sends requests made
// before `go` (the SDK's own bodies and headers), so the ratio compares the server's two paths;
// `live` runs the SDK after `go`, its CPU included, as an application meets it. Then `--large`
// Segment batches of just under 500 KB are posted one after another and their latency reported.
// `--cpu-prof DIR` writes V8 profiles of the server's threads there.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { SEGMENT_MAX_BATCH_BYTES } from '../lambdas/shared/domain/limits.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { BENCH_JWT_SECRET, startLocalServer } from './support/local-server.js';
import type { ClientMode, ClientReport, ClientSide, LogicalEvent, PrepareOrder } from './support/segment-client.js';
import { benchServerUrl, median, percentile } from './support/stats.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '4' }, large: { type: 'string', default: '20' }, port: { type: 'string', default: '3141' }, 'cpu-prof': { type: 'string' } } });
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
// The side that goes first in a round may pay for what the one before left (a checkpoint, the
// JIT): an odd count would weigh one order twice.
if (ROUNDS % 2 !== 0) throw new Error('--rounds must be even, so that each side goes first as often');
const LARGE = Number(values.large);
const BATCH = 1000;
const TENANT = '00000000-0000-4000-8000-0000000000b7';
const MODES: ClientMode[] = ['replay', 'live'];

function logicalEvents(count: number): LogicalEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    action: ['Product Viewed', 'Product Added', 'Checkout Started'][index % 3] as string,
    category: ['catalog', 'cart', 'checkout'][index % 3] as string,
    user: randomUUID(),
    anonymousId: randomUUID(),
    properties: { sku: `sku-${index % 400}`, price: (index % 90) + 0.99, currency: 'EUR', page: `/p/${index % 40}` },
  }));
}

const percentiles = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? NaN };
};

/** One client process, its answer to each order awaited in turn. */
function startClient(): { next: (order?: PrepareOrder) => Promise<ClientReport>; stop: () => void } {
  const child: ChildProcess = fork(new URL('./support/segment-client.ts', import.meta.url), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (order?: PrepareOrder) =>
    new Promise<ClientReport>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`the client exited (${code})`));
      child.once('exit', exited);
      child.once('message', (report: ClientReport) => {
        child.off('exit', exited);
        if (report.kind === 'failed') reject(new Error(`the client failed: ${report.reason}`));
        else resolve(report);
      });
      child.send(order ?? { kind: 'go' });
    });
  return { next, stop: () => child.kill() };
}

async function main(): Promise<void> {
  const bench = await createServerDatabase(benchServerUrl(), 'bench_segment');
  const dataDir = await mkdtemp(join(tmpdir(), 'tracker-bench-segment-'));
  const client = new pg.Client({ connectionString: bench.url });
  await client.connect();
  const server = await startLocalServer(bench.url ?? '', dataDir, { PORT: values.port }, values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []);
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

  const token = await mintToken({ secret: BENCH_JWT_SECRET, tenantId: TENANT, subject: 'bench', scopes: ['events:write'] });
  // One process per client, kept for the whole run, so that neither pays a start-up the other does not.
  const clients = { segment: startClient(), ours: startClient() };
  /** Milliseconds from `go` until every event is stored; preparing is not counted. */
  const timed = async (side: ClientSide, mode: ClientMode, events: LogicalEvent[]) => {
    await reset();
    await clients[side].next({ kind: 'prepare', side, mode, url: server.url, writeKey, token, batch: BATCH, events });
    const started = performance.now();
    await clients[side].next();
    const answered = performance.now() - started;
    await drained(events.length);
    return { answered, stored: performance.now() - started };
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
    // Warm-up, not measured: two rounds' worth per side and mode. After 1,000 events each (the
    // warm-up until 2026-12-03) the Segment path was still getting faster round by round (round 1
    // 0.65-0.71, round 4 0.83-1.02 in four runs), and so the side that went first lost.
    for (let warm = 0; warm < 2; warm++) for (const mode of MODES) for (const side of ['segment', 'ours'] as const) await timed(side, mode, logicalEvents(EVENTS));

    const rounds: Array<Record<ClientMode, { segment: number; ours: number }>> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const events = logicalEvents(EVENTS);
      const order: ClientSide[] = round % 2 === 1 ? ['segment', 'ours'] : ['ours', 'segment'];
      const rates = { replay: { segment: NaN, ours: NaN }, live: { segment: NaN, ours: NaN } };
      const times = { replay: {}, live: {} } as Record<ClientMode, Record<ClientSide, { answered: number; stored: number }>>;
      for (const mode of MODES) {
        for (const side of order) {
          times[mode][side] = await timed(side, mode, events);
          rates[mode][side] = EVENTS / (times[mode][side].stored / 1000);
        }
      }
      rounds.push(rates);
      // When the last request was answered, against when the last event was stored: ingest or writer.
      const line = (mode: ClientMode) => {
        const { segment, ours } = times[mode];
        return `${mode}: ${rates[mode].segment.toFixed(0)} vs ${rates[mode].ours.toFixed(0)} ev/s, ratio ${(rates[mode].segment / rates[mode].ours).toFixed(2)} (answered after ${segment.answered.toFixed(0)} vs ${ours.answered.toFixed(0)} ms, stored after ${segment.stored.toFixed(0)} vs ${ours.stored.toFixed(0)} ms)`;
      };
      console.log(`round ${round} (${order.join(' then ')}): ${line('replay')}; ${line('live')}; load ${loadavg()[0]?.toFixed(1)}`);
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

    console.log(`\n${EVENTS} events per round, batches of ${BATCH}, ${ROUNDS} rounds alternating, server and each client a process of its own, PostgreSQL, load average ${loadavg().map((load) => load.toFixed(1)).join(' ')}`);
    for (const mode of MODES) {
      const of = (side: ClientSide) => median(rounds.map((round) => round[mode][side])).toFixed(0);
      const what = mode === 'replay' ? "the SDK's requests made before the clock, sent at once: the server's paths" : 'analytics-node run after the clock, its CPU included';
      const ratios = rounds.map((round) => round[mode].segment / round[mode].ours);
      const byOrder = (first: number) => median(ratios.filter((_, index) => index % 2 === first)).toFixed(2);
      console.log(`${mode} (${what}): /v1/batch median ${of('segment')} ev/s, /v1/events/batch median ${of('ours')} ev/s, ratio (median of rounds) ${median(ratios).toFixed(2)}; Segment first ${byOrder(0)}, ours first ${byOrder(1)}`);
    }
    console.log(`${LARGE} Segment batches of ${Buffer.byteLength(body)} bytes (${count} messages), one after another: p50 ${large.p50.toFixed(0)} ms, p95 ${large.p95.toFixed(0)} ms, max ${large.max.toFixed(0)} ms`);
  } finally {
    clients.segment.stop();
    clients.ours.stop();
    await server.stop();
    await client.end();
    await bench.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
