// npm run bench:live-stream [-- --subscribers 50 --latency-events 300 --events 20000 --rounds 3]
// The local live stream, black box: `bin/local.ts` as its own process on real Postgres (the
// writer in its thread), WebSocket subscribers of one tenant at /v1/stream, one of which never
// reads. Two figures:
// - latency from the 202 of `POST /v1/events` to the event's arrival at each reading subscriber;
// - the writer's rate (batches of 1,000 until the queue is empty) with the subscribers against
//   none, alternating in the same run.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { WebSocket } from 'ws';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { streamSubprotocols } from '../lambdas/shared/domain/stream-credential.js';
import { startServer, type Server } from '../test/support/server-process.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { benchServerUrl, median, percentile } from './support/stats.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '50' },
    'latency-events': { type: 'string', default: '300' },
    events: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
  },
});
const SUBSCRIBERS = Number(values.subscribers);
const LATENCY_EVENTS = Number(values['latency-events']);
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const BATCH = 1000;
const CLIENTS = 4;
/** One event every this many ms during the latency phase: a busy site, not a flood. */
const LATENCY_INTERVAL_MS = 20;
const TENANT = '00000000-0000-4000-8000-0000000000c1';
const SECRET = 'bench-secret-bench-secret-bench-secret!!';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function event(index: number): Record<string, unknown> {
  return {
    id: randomUUID(),
    type: 'USER_ACTION',
    category: ['navigation', 'checkout', 'search'][index % 3],
    action: 'view',
    sessionId: `s-${index % 50}`,
    properties: { page: `/p/${index % 40}`, plan: 'pro' },
    context: { locale: 'en-GB', userAgent: 'Mozilla/5.0 bench' },
  };
}

interface Subscriber {
  socket: WebSocket;
  /** Arrival time by event id (latency phase only). */
  arrivals: Map<string, number>;
  events: number;
}

/** `parse`: record each event's arrival (latency phase); otherwise only count bytes, cheaply. */
async function subscribe(url: string, token: string, reading: boolean, parse: { value: boolean }): Promise<Subscriber> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, streamSubprotocols(token));
  const subscriber: Subscriber = { socket, arrivals: new Map(), events: 0 };
  await new Promise<void>((resolve, reject) => {
    socket.once('message', () => resolve());
    socket.once('error', reject);
  });
  socket.on('message', (data: Buffer) => {
    if (!parse.value) return;
    const now = performance.now();
    const message = JSON.parse(data.toString()) as { type: string; events?: Array<{ eventId: string }> };
    for (const stored of message.events ?? []) {
      subscriber.arrivals.set(stored.eventId, now);
      subscriber.events += 1;
    }
  });
  // The dead subscriber: connected, never reading, so its socket backs up.
  if (!reading) socket.pause();
  return subscriber;
}

async function queueEmpty(client: pg.Client): Promise<void> {
  while ((await client.query('SELECT 1 FROM local_queue.messages WHERE dead_lettered_at IS NULL LIMIT 1')).rowCount) await sleep(5);
}

/** Events per second from the first request to the last event stored. */
async function writerRate(server: Server, client: pg.Client, headers: Record<string, string>): Promise<number> {
  const bodies = Array.from({ length: EVENTS / BATCH }, () => JSON.stringify({ events: Array.from({ length: BATCH }, (_, index) => event(index)) }));
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let index = next++; index < bodies.length; index = next++) {
      const response = await fetch(`${server.url}/v1/events/batch`, { method: 'POST', headers, body: bodies[index] });
      const receipt = (await response.json()) as { successful?: string[] };
      if (receipt.successful?.length !== BATCH) throw new Error(`batch answered ${response.status}`);
    }
  }));
  await queueEmpty(client);
  return EVENTS / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const bench = await createServerDatabase(benchServerUrl(), 'tracker_bench');
  const dataDir = await mkdtemp(join(tmpdir(), 'tracker-bench-'));
  const client = new pg.Client({ connectionString: bench.url });
  await client.connect();
  const server = await startServer({ ...process.env, DATABASE_URL: bench.url, DATA_DIR: dataDir, PORT: '0', JWT_SECRET: SECRET, TENANT_RATE_LIMIT_EVENTS: '100000000', TENANT_RATE_LIMIT_RPS: '1000000' }, 'node');
  // The server logs a line per request and delivery; the bench reads none of them.
  server.child.stdout?.removeAllListeners('data').resume();
  server.child.stderr?.removeAllListeners('data').resume();
  const token = await mintToken({ secret: SECRET, tenantId: TENANT, subject: 'bench', scopes: ['events:write', 'events:read'] });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const parse = { value: false };
  const subscribers: Subscriber[] = [];
  const connect = async () => {
    for (let index = 0; index < SUBSCRIBERS; index += 1) subscribers.push(await subscribe(server.url, token, index > 0, parse));
  };
  const disconnect = async () => {
    for (const subscriber of subscribers.splice(0)) subscriber.socket.terminate();
  };

  try {
    await writerRate(server, client, headers);

    // Latency: one event at a time, the 202 timed, its arrival at every reading subscriber.
    await connect();
    parse.value = true;
    const answered = new Map<string, number>();
    for (let index = 0; index < LATENCY_EVENTS; index += 1) {
      const body = event(index);
      const response = await fetch(`${server.url}/v1/events`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}`);
      answered.set(body['id'] as string, performance.now());
      await response.arrayBuffer();
      await sleep(LATENCY_INTERVAL_MS);
    }
    await queueEmpty(client);
    await sleep(1000);
    parse.value = false;
    const reading = subscribers.slice(1);
    const latencies: number[] = [];
    let missing = 0;
    for (const subscriber of reading) {
      for (const [eventId, at] of answered) {
        const arrived = subscriber.arrivals.get(eventId);
        if (arrived === undefined) missing += 1;
        else latencies.push(arrived - at);
      }
    }
    latencies.sort((a, b) => a - b);
    await disconnect();

    // The writer's rate, alternating: subscribers connected, then none. The rounds without
    // subscribers use another tenant, which no one has streamed (the hub keeps a tenant
    // streamed for its resume window after its last subscriber leaves).
    const baselineToken = await mintToken({ secret: SECRET, tenantId: '00000000-0000-4000-8000-0000000000c2', subject: 'bench', scopes: ['events:write'] });
    const baselineHeaders = { ...headers, authorization: `Bearer ${baselineToken}` };
    const rounds: Array<{ streamed: number; none: number }> = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      await client.query('CHECKPOINT');
      const none = await writerRate(server, client, baselineHeaders);
      await connect();
      await client.query('CHECKPOINT');
      const streamed = await writerRate(server, client, headers);
      await disconnect();
      rounds.push({ streamed, none });
      console.log(`round ${round}: writer with ${SUBSCRIBERS} subscribers ${streamed.toFixed(0)} ev/s, with none ${none.toFixed(0)} ev/s, ratio ${(streamed / none).toFixed(2)}`);
    }

    console.log(`\n${SUBSCRIBERS} subscribers of one tenant (one never reading), server process on PostgreSQL, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
    console.log(`latency from the 202 to delivery, ${LATENCY_EVENTS} events x ${reading.length} reading subscribers: p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${percentile(latencies, 100).toFixed(0)} ms; not delivered ${missing} (goal p95 < 1000 ms)`);
    console.log(`writer, ${EVENTS} events a round in batches of ${BATCH} from ${CLIENTS} clients: with subscribers median ${median(rounds.map((round) => round.streamed)).toFixed(0)} ev/s, with none ${median(rounds.map((round) => round.none)).toFixed(0)} ev/s; ratio (median of rounds) ${median(rounds.map((round) => round.streamed / round.none)).toFixed(2)} (goal >= 0.95)`);
  } finally {
    for (const subscriber of subscribers) subscriber.socket.terminate();
    server.child.kill('SIGTERM');
    await server.exited;
    await client.end();
    await bench.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
