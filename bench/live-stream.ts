// npm run bench:live-stream [-- --subscribers 50 --latency-events 300 --events 20000 --rounds 3 --subscribers-nice 0 --filter types=ERROR --cpu-prof DIR]
// The local live stream, black box: `bin/local.ts` as its own process on real Postgres (the
// writer in its thread), WebSocket subscribers of one tenant at /v1/stream, one of which never
// reads. The subscribers run in a process of their own (bench/support/stream-subscribers.ts), as
// users' browsers are not in the load generator: until 2026-12-02 they shared the bench's event
// loop with the 4 HTTP clients, and on 2 cores their reading took as much CPU as the server's
// fan-out (docs/benchmarks.md). They count what they received, so a stream that drops is seen.
// Two figures:
// - latency from the 202 of `POST /v1/events` to the event's arrival at each reading subscriber;
// - the writer's rate (batches of 1,000 until the queue is empty) with the subscribers against
//   none, alternating in the same run; beside it the CPU each process spent per 1,000 events
//   (the server's main and other threads, Postgres's backends, the subscribers, the bench), so
//   that what the server pays for the fan-out is told apart from what the machine's other
//   processes take from it on shared cores.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { startServer, type Server } from '../test/support/server-process.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { processCpuMs, processesCpuMs, threadsCpuMs } from './support/cpu-time.js';
import { benchServerUrl, median, percentile } from './support/stats.js';
import { monotonicMs, type SubscribersCommand, type SubscribersReply, type SubscribersReport } from './support/stream-subscribers.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '50' },
    'latency-events': { type: 'string', default: '300' },
    events: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    /**
     * The subscribers' process priority (nice). At 19 they read only on CPU the others leave, as
     * browsers on other machines would, but at 20,000 events a round they fell behind and the
     * server dropped 10% of the events for them (2026-12-02): a writer timed on a stream that
     * drops is not the load asked for, so they run at 0 unless told.
     */
    'subscribers-nice': { type: 'string', default: '0' },
    /**
     * The writer rounds' subscription filter, as a query string: `types=ERROR` takes none of the
     * bench's events, so the server makes and filters every event but writes none (the
     * latency phase always subscribes without a filter).
     */
    filter: { type: 'string', default: '' },
    /** Writes V8 CPU profiles of the server's threads and of the subscribers' process there. */
    'cpu-prof': { type: 'string' },
  },
});
const SUBSCRIBERS = Number(values.subscribers);
const LATENCY_EVENTS = Number(values['latency-events']);
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const SUBSCRIBERS_NICE = Number(values['subscribers-nice']);
const PROFILE_ARGS = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
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

/** The subscribers' process, one command and its answer at a time. */
class Subscribers {
  private constructor(private readonly child: ChildProcess) {}

  static start(): Subscribers {
    const child = fork(new URL('./support/stream-subscribers.ts', import.meta.url), { execArgv: [...PROFILE_ARGS, '--import', 'tsx'] });
    setPriority(child.pid ?? 0, SUBSCRIBERS_NICE);
    return new Subscribers(child);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  connect(url: string, token: string, query = ''): Promise<SubscribersReply> {
    return this.ask({ type: 'connect', url, token, query, count: SUBSCRIBERS });
  }

  timing(on: boolean): void {
    this.child.send({ type: 'timing', on } satisfies SubscribersCommand);
  }

  async disconnect(): Promise<SubscribersReport> {
    const reply = await this.ask({ type: 'disconnect' });
    if (reply.type !== 'disconnected') throw new Error(`the subscribers answered ${reply.type} to disconnect`);
    return reply;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }

  private ask(command: SubscribersCommand): Promise<SubscribersReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the subscribers' process exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply) => {
        this.child.off('exit', onExit);
        resolve(reply as SubscribersReply);
      });
      this.child.send(command);
    });
  }
}

async function queueEmpty(client: pg.Client): Promise<void> {
  while ((await client.query('SELECT 1 FROM local_queue.messages WHERE dead_lettered_at IS NULL LIMIT 1')).rowCount) await sleep(5);
}

/** CPU ms by process (the server's threads apart), read before and after a round. */
interface CpuSample {
  serverMain: number;
  serverOthers: number;
  postgres: number;
  subscribers: number;
  bench: number;
}

async function cpuSample(server: Server, client: pg.Client, subscribers: Subscribers): Promise<CpuSample> {
  const backends = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  const threads = await threadsCpuMs(server.child.pid ?? 0);
  const usage = process.cpuUsage();
  return {
    serverMain: threads.main,
    serverOthers: threads.others,
    postgres: await processesCpuMs(backends.rows.map((row) => row.pid)),
    subscribers: await processCpuMs(subscribers.pid),
    bench: (usage.user + usage.system) / 1000,
  };
}

const CPU_PARTS = ['serverMain', 'serverOthers', 'postgres', 'subscribers', 'bench'] as const;
const cpuPerThousand = (before: CpuSample, after: CpuSample): CpuSample =>
  Object.fromEntries(CPU_PARTS.map((part) => [part, ((after[part] - before[part]) / EVENTS) * 1000])) as unknown as CpuSample;
const describeCpu = (cpu: CpuSample): string =>
  `server main ${cpu.serverMain.toFixed(0)}, server other threads ${cpu.serverOthers.toFixed(0)}, postgres ${cpu.postgres.toFixed(0)}, subscribers ${cpu.subscribers.toFixed(0)}, bench ${cpu.bench.toFixed(0)}`;

interface Round {
  rate: number;
  cpu: CpuSample;
}

/** Events per second from the first request to the last event stored, and the CPU it took. */
async function writerRound(server: Server, client: pg.Client, subscribers: Subscribers, headers: Record<string, string>): Promise<Round> {
  const bodies = Array.from({ length: EVENTS / BATCH }, () => JSON.stringify({ events: Array.from({ length: BATCH }, (_, index) => event(index)) }));
  let next = 0;
  const before = await cpuSample(server, client, subscribers);
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let index = next++; index < bodies.length; index = next++) {
      const response = await fetch(`${server.url}/v1/events/batch`, { method: 'POST', headers, body: bodies[index] });
      const receipt = (await response.json()) as { successful?: string[] };
      if (receipt.successful?.length !== BATCH) throw new Error(`batch answered ${response.status}`);
    }
  }));
  await queueEmpty(client);
  const rate = EVENTS / ((performance.now() - started) / 1000);
  return { rate, cpu: cpuPerThousand(before, await cpuSample(server, client, subscribers)) };
}

const medianCpu = (samples: CpuSample[]): CpuSample => Object.fromEntries(CPU_PARTS.map((part) => [part, median(samples.map((sample) => sample[part]))])) as unknown as CpuSample;

async function main(): Promise<void> {
  const bench = await createServerDatabase(benchServerUrl(), 'tracker_bench');
  const dataDir = await mkdtemp(join(tmpdir(), 'tracker-bench-'));
  const client = new pg.Client({ connectionString: bench.url });
  await client.connect();
  const server = await startServer({ ...process.env, DATABASE_URL: bench.url, DATA_DIR: dataDir, PORT: '0', JWT_SECRET: SECRET, TENANT_RATE_LIMIT_EVENTS: '100000000', TENANT_RATE_LIMIT_RPS: '1000000' }, 'node', PROFILE_ARGS);
  // The server logs a line per request and delivery; the bench reads none of them.
  server.child.stdout?.removeAllListeners('data').resume();
  server.child.stderr?.removeAllListeners('data').resume();
  const subscribers = Subscribers.start();
  const token = await mintToken({ secret: SECRET, tenantId: TENANT, subject: 'bench', scopes: ['events:write', 'events:read'] });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  try {
    await writerRound(server, client, subscribers, headers);

    // Latency: one event at a time, the 202 timed, its arrival at every reading subscriber.
    await subscribers.connect(server.url, token);
    subscribers.timing(true);
    const answered = new Map<string, number>();
    for (let index = 0; index < LATENCY_EVENTS; index += 1) {
      const body = event(index);
      const response = await fetch(`${server.url}/v1/events`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}`);
      answered.set(body['id'] as string, monotonicMs());
      await response.arrayBuffer();
      await sleep(LATENCY_INTERVAL_MS);
    }
    await queueEmpty(client);
    await sleep(1000);
    subscribers.timing(false);
    const { arrivals } = await subscribers.disconnect();
    const latencies: number[] = [];
    let missing = 0;
    for (const received of arrivals) {
      const at = new Map(received);
      for (const [eventId, sent] of answered) {
        const arrived = at.get(eventId);
        if (arrived === undefined) missing += 1;
        else latencies.push(arrived - sent);
      }
    }
    latencies.sort((a, b) => a - b);

    // The writer's rate, alternating: subscribers connected, then none. The rounds without
    // subscribers use another tenant, which no one has streamed (the hub keeps a tenant
    // streamed for its resume window after its last subscriber leaves).
    const baselineToken = await mintToken({ secret: SECRET, tenantId: '00000000-0000-4000-8000-0000000000c2', subject: 'bench', scopes: ['events:write'] });
    const baselineHeaders = { ...headers, authorization: `Bearer ${baselineToken}` };
    const rounds: Array<{ streamed: Round; none: Round; report: SubscribersReport }> = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      await client.query('CHECKPOINT');
      const none = await writerRound(server, client, subscribers, baselineHeaders);
      await subscribers.connect(server.url, token, values.filter);
      await client.query('CHECKPOINT');
      const streamed = await writerRound(server, client, subscribers, headers);
      const report = await subscribers.disconnect();
      rounds.push({ streamed, none, report });
      const expected = values.filter ? 0 : EVENTS * (SUBSCRIBERS - 1);
      console.log(`round ${round}: writer with ${SUBSCRIBERS} subscribers ${streamed.rate.toFixed(0)} ev/s, with none ${none.rate.toFixed(0)} ev/s, ratio ${(streamed.rate / none.rate).toFixed(2)}; the reading subscribers received ${report.events} of ${expected} events (${expected ? `${((report.events / expected) * 100).toFixed(1)}%, ` : ''}${(report.bytes / 1e6).toFixed(1)} MB), told of ${report.dropped} dropped`);
      console.log(`  CPU ms per 1,000 events with subscribers: ${describeCpu(streamed.cpu)}`);
      console.log(`  CPU ms per 1,000 events with none:        ${describeCpu(none.cpu)}`);
    }

    console.log(`\n${SUBSCRIBERS} subscribers of one tenant (one never reading) in a process of their own at nice ${SUBSCRIBERS_NICE}, server process on PostgreSQL, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
    console.log(`latency from the 202 to delivery, ${LATENCY_EVENTS} events x ${arrivals.length} reading subscribers: p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${percentile(latencies, 100).toFixed(0)} ms; not delivered ${missing} (goal p95 < 1000 ms)`);
    console.log(`writer, ${EVENTS} events a round in batches of ${BATCH} from ${CLIENTS} clients: with subscribers median ${median(rounds.map((round) => round.streamed.rate)).toFixed(0)} ev/s, with none ${median(rounds.map((round) => round.none.rate)).toFixed(0)} ev/s; ratio (median of rounds) ${median(rounds.map((round) => round.streamed.rate / round.none.rate)).toFixed(2)} (goal >= 0.95)`);
    if (!values.filter) console.log(`delivered to the reading subscribers (median of rounds): ${median(rounds.map((round) => (round.report.events / (EVENTS * (SUBSCRIBERS - 1))) * 100)).toFixed(1)}% of the events`);
    console.log(`CPU ms per 1,000 events, medians, with subscribers: ${describeCpu(medianCpu(rounds.map((round) => round.streamed.cpu)))}`);
    console.log(`CPU ms per 1,000 events, medians, with none:        ${describeCpu(medianCpu(rounds.map((round) => round.none.cpu)))}`);
  } finally {
    await subscribers.disconnect().catch(() => undefined);
    await subscribers.stop();
    server.child.kill('SIGTERM');
    await server.exited;
    await client.end();
    await bench.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
