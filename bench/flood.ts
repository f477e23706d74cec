// npm run bench:flood [-- --seconds 10 --flooders 16 --rps 20 --events 2000 --pglite]
// One tenant floods the API while another keeps sending at its usual pace: does the quiet
// tenant keep its latency, and is every event the flooder was told "accepted" stored?
// Three phases through the local runtime (same handlers, DynamoDB buckets in dynalite, writer,
// Postgres): the quiet tenant alone; with the flood and the per-tenant limits; with the flood
// and no limits (the baseline that shows what the limits buy). The flooder runs in a worker
// thread so that its client work does not sit in the server's event loop.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { openDatabase, type SqlDatabase } from '../lambdas/shared/adapters/pg/sql-database.js';
import { loadLocalConfig } from '../lambdas/shared/config.js';
import type { TenantRateLimits } from '../lambdas/shared/domain/rate-limit.js';
import { startLocalRuntime } from '../bin/local-runtime/runtime.js';
import { createServerDatabase, type TestDatabase } from '../test/support/test-database.js';
import { benchServerUrl, percentile } from './support/stats.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    flooders: { type: 'string', default: '16' },
    rps: { type: 'string', default: '20' },
    events: { type: 'string', default: '2000' },
    pglite: { type: 'boolean', default: false },
  },
});
const PHASE_MS = Number(values.seconds) * 1000;
const FLOODERS = Number(values.flooders);
const SECRET = 'bench-secret-bench-secret-bench-secret!!';
// Locally every tenant shares one Node process and two vCPUs with PostgreSQL, so a tenant's
// allowance has to be a small share of that for the limit, not the machine, to be what holds a
// flood back. (In AWS every request has a Lambda environment of its own; the stages allow more.)
const LIMITS: TenantRateLimits = {
  requests: { ratePerSecond: Number(values.rps), burst: Number(values.rps) },
  events: { ratePerSecond: Number(values.events), burst: Number(values.events) },
};
const UNLIMITED: TenantRateLimits = { requests: { ratePerSecond: 1e9, burst: 1e9 }, events: { ratePerSecond: 1e9, burst: 1e9 } };
// The quiet tenant: 10 requests of 50 events a second, a fifth of its limits.
const QUIET_EVERY_MS = 100;
const QUIET_BATCH = 50;
const FLOOD_BATCH = 1000;

const batch = (size: number, action: string) =>
  JSON.stringify({ events: Array.from({ length: size }, (_, i) => ({ type: 'USER_ACTION', category: 'bench', action, userId: randomUUID(), properties: { n: i } })) });

interface FloodResult {
  accepted: number;
  refused: number;
  acceptedEvents: number;
  acceptedLatencies: number[];
  refusedLatencies: number[];
}

// Plain JavaScript: a worker started with eval runs outside tsx.
const FLOODER = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, token, body, concurrency, durationMs } = workerData;
const result = { accepted: 0, refused: 0, acceptedEvents: 0, acceptedLatencies: [], refusedLatencies: [] };
const until = Date.now() + durationMs;
async function loop() {
  while (Date.now() < until) {
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer ' + token }, body });
    const answer = await response.json();
    const elapsed = performance.now() - started;
    if (response.status === 200) { result.accepted++; result.acceptedEvents += answer.successful.length; result.acceptedLatencies.push(elapsed); }
    else if (response.status === 429) { result.refused++; result.refusedLatencies.push(elapsed); }
    else throw new Error('flood answered ' + response.status);
  }
}
Promise.all(Array.from({ length: concurrency }, loop)).then(() => parentPort.postMessage(result));
`;

function flood(url: string, token: string, durationMs: number): Promise<FloodResult> {
  const worker = new Worker(FLOODER, { eval: true, workerData: { url, token, body: batch(FLOOD_BATCH, 'flood'), concurrency: FLOODERS, durationMs } });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: FloodResult) => void worker.terminate().then(() => resolve(result)));
    worker.once('error', reject);
  });
}

/** The quiet tenant at its pace for `durationMs`: request latencies, and how many it got accepted. */
async function quietTenant(url: string, token: string, durationMs: number): Promise<{ latencies: number[]; refused: number }> {
  const latencies: number[] = [];
  let refused = 0;
  const until = Date.now() + durationMs;
  const body = batch(QUIET_BATCH, 'quiet');
  while (Date.now() < until) {
    const next = Date.now() + QUIET_EVERY_MS;
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
    await response.json();
    latencies.push(performance.now() - started);
    if (response.status !== 200) refused++;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  return { latencies, refused };
}

const p = (samples: number[], rank: number) => percentile([...samples].sort((a, b) => a - b), rank);
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function storedEvents(db: SqlDatabase, tenantId: string): Promise<number> {
  return Number((await db.query<{ n: string | number }>('SELECT count(*) AS n FROM analytics_events WHERE tenant_id = $1', [tenantId]))[0]?.n);
}

async function phase(db: SqlDatabase, limits: TenantRateLimits, withFlood: boolean) {
  const runtime = await startLocalRuntime({ ...loadLocalConfig({}), port: 0, db, auth: { jwtSecret: SECRET }, inMemory: true, rateLimits: limits });
  const quietId = randomUUID();
  const flooderId = randomUUID();
  const token = (tenantId: string) => mintToken({ secret: SECRET, tenantId, subject: 'bench', scopes: ['events:write'] });
  const url = `${runtime.url}/v1/events/batch`;
  try {
    const [quiet, flooded] = await Promise.all([
      quietTenant(url, await token(quietId), PHASE_MS),
      withFlood ? flood(url, await token(flooderId), PHASE_MS) : Promise.resolve(undefined),
    ]);
    await runtime.eventSource.drained();
    return { quiet, flooded, storedFlood: await storedEvents(db, flooderId), storedQuiet: await storedEvents(db, quietId) };
  } finally {
    await runtime.close();
  }
}

async function main(): Promise<void> {
  const bench: TestDatabase | undefined = values.pglite ? undefined : await createServerDatabase(benchServerUrl(), 'tracker_bench');
  const db = bench?.db ?? (await openDatabase({}));
  try {
    const alone = await phase(db, LIMITS, false);
    const limited = await phase(db, LIMITS, true);
    const unlimited = await phase(db, UNLIMITED, true);

    console.log(`database: ${bench ? 'PostgreSQL server' : 'embedded PGlite'}; ${PHASE_MS / 1000} s per phase; limits ${LIMITS.requests.ratePerSecond} requests/s, ${LIMITS.events.ratePerSecond} events/s per tenant`);
    console.log(`quiet tenant: a batch of ${QUIET_BATCH} every ${QUIET_EVERY_MS} ms; flooder: ${FLOODERS} connections sending batches of ${FLOOD_BATCH} back to back`);
    console.log('');
    console.log('| phase | quiet p50 | quiet p95 | quiet refused | flooder accepted / refused requests | flooder p95 accepted / refused | flooder events accepted = stored |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [name, result] of [['quiet tenant alone', alone], ['flood, per-tenant limits', limited], ['flood, no limits (baseline)', unlimited]] as const) {
      const { quiet, flooded } = result;
      const flooder = flooded
        ? `| ${flooded.accepted} / ${flooded.refused} | ${ms(p(flooded.acceptedLatencies, 95))} / ${flooded.refused ? ms(p(flooded.refusedLatencies, 95)) : '-'} | ${flooded.acceptedEvents} = ${result.storedFlood} ${flooded.acceptedEvents === result.storedFlood ? 'yes' : 'NO'} |`
        : '| - | - | - |';
      console.log(`| ${name} | ${ms(p(quiet.latencies, 50))} | ${ms(p(quiet.latencies, 95))} | ${quiet.refused} of ${quiet.latencies.length} ${flooder}`);
    }
    console.log('');
    const ratio = (result: typeof alone) => p(result.quiet.latencies, 95) / p(alone.quiet.latencies, 95);
    console.log(`quiet tenant p95 under flood vs alone: ${ratio(limited).toFixed(2)}x with limits, ${ratio(unlimited).toFixed(2)}x without`);
    const quietAccepted = (result: typeof alone) => (result.quiet.latencies.length - result.quiet.refused) * QUIET_BATCH;
    const lost = [alone, limited, unlimited].some(
      (result) => (result.flooded && result.flooded.acceptedEvents !== result.storedFlood) || quietAccepted(result) !== result.storedQuiet,
    );
    console.log(lost ? 'LOST EVENTS: an accepted event of the flooder is not stored' : 'every accepted event of both tenants is stored');
  } finally {
    if (bench) await bench.drop();
    else await db.close();
  }
}

await main();
