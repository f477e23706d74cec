// npm run bench:retention [-- --events 1000000 --small 250000 --tenants 8 --runs 3 --seconds 20 --rate 10 --batch 100 --query-every 250 --duty 0.5]
// The retention job (issue 13) on real Postgres, at two partition sizes (--small, then
// --events). Each size: an expired month of several tenants loaded with INSERT ... SELECT
// generate_series (with the dedupe rows and rollups the writer would have kept), ANALYZE, then
// 1. the job's export (store.tenantEvents -> putEventLines -> DirEventArchive, tenant by
//    tenant as exportMonth does) alternating with COPY (SELECT the same columns) TO STDOUT of
//    the same partition, --runs rounds: rows/s and their ratio;
// 2. the whole job (`runMaintenance` as `npm run maintenance` wires it) in a child process:
//    its steps' times and its peak RSS (process.resourceUsage().maxRSS), paced at --duty
//    (MAINTENANCE_DUTY_CYCLE, the job's default when not given);
// 3. ingestion (POST /v1/events/batch) and a read (POST /v1/events/query over the last 24 h)
//    through HTTP on the local runtime (bin/local.ts on the same database), at a steady rate:
//    idle for --seconds, beside the job while it runs, idle again: p95 beside over p95 idle.
//    Not the aggregate: building its event sets over the bench's recent events passed the
//    statement timeout on its own (docs/benchmarks.md, Retention).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { Maintenance } from '../lambdas/shared/config.js';
import { DirEventArchive } from '../lambdas/shared/adapters/local/dir-event-archive.js';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { EVENT_COLUMNS } from '../lambdas/shared/adapters/pg/event-rows.js';
import { partitionTable } from '../lambdas/shared/adapters/pg/event-partitions.js';
import { PgRetentionStore } from '../lambdas/shared/adapters/pg/pg-retention-store.js';
import { archivePrefix, tenantKey } from '../lambdas/shared/domain/archive-manifest.js';
import { monthsAhead } from '../lambdas/shared/domain/months.js';
import { monthEnd, planMaintenance } from '../lambdas/shared/domain/retention-plan.js';
import { putEventLines } from '../lambdas/shared/use-cases/archived-lines.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { BENCH_JWT_SECRET, startLocalServer, type LocalServer } from './support/local-server.js';
import type { RetentionJobReport } from './support/retention-job.js';
import { INSERT_EVENTS } from './support/insert-events.js';
import { benchServerUrl, median, percentile } from './support/stats.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    small: { type: 'string' },
    tenants: { type: 'string', default: '8' },
    recent: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '20' },
    rate: { type: 'string', default: '10' },
    batch: { type: 'string', default: '100' },
    'query-every': { type: 'string', default: '250' },
    duty: { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const SIZES = [...new Set([Number(values.small ?? EVENTS / 4), EVENTS])];
const TENANTS = Number(values.tenants);
const RECENT = Number(values.recent);
const RUNS = Number(values.runs);
const IDLE_MS = Number(values.seconds) * 1000;
const INGEST_EVERY_MS = 1000 / Number(values.rate);
const BATCH = Number(values.batch);
const QUERY_EVERY_MS = Number(values['query-every']);

const DAY = 86_400_000;
const SETTINGS = { eventRetentionDays: 90, rollupRetentionDays: 365 };
/** The tenant that sends and reads live; it also has events in the expired month. */
const LIVE_TENANT = '00000000-0000-4000-8000-0000000000c1';
const EXPIRED_TENANTS = [LIVE_TENANT, ...Array.from({ length: TENANTS - 1 }, () => randomUUID())];

/** The month before the one the job's cut-off falls in: wholly expired, the job archives it. */
const expiredMonth = (now: Date): string => {
  const cutoff = planMaintenance(now, [], SETTINGS).eventCutoff;
  return new Date(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
};


/** What the writer keeps beside the events of [from, to): one dedupe row each, and the minute, hour and day rollups, and the hour and day totals per type. */
async function addWriterRows(client: pg.Client, from: Date, to: Date): Promise<void> {
  await client.query(
    `INSERT INTO event_dedupe (tenant_id, event_id, event_timestamp, first_seen_at)
     SELECT tenant_id, event_id, timestamp, stored_at FROM analytics_events WHERE timestamp >= $1 AND timestamp < $2`,
    [from, to],
  );
  await client.query(
    `INSERT INTO event_rollups (tenant_id, granularity, period_start, event_type, category, action, count, value_count, total_value, min_value, max_value)
     SELECT tenant_id, prefix || g, date_trunc(g, timestamp, 'UTC'), event_type, CASE prefix WHEN '' THEN category ELSE '' END,
       CASE prefix WHEN '' THEN action ELSE '' END, count(*), count(value), coalesce(sum(value), 0), min(value), max(value)
     FROM analytics_events CROSS JOIN (VALUES ('minute', ''), ('hour', ''), ('day', ''), ('hour', 'type_'), ('day', 'type_')) AS grains(g, prefix)
     WHERE timestamp >= $1 AND timestamp < $2 GROUP BY 1, 2, 3, 4, 5, 6`,
    [from, to],
  );
}

async function loadEvents(client: pg.Client, tenants: string[], from: Date, to: Date, count: number): Promise<void> {
  await client.query('SELECT ensure_event_partition(m::date) FROM unnest($1::text[]) m', [[...new Set([...monthsAhead(from, 0), ...monthsAhead(new Date(to.getTime() - 1), 0)])]]);
  await client.query(INSERT_EVENTS, [tenants, from, to, count]);
  await addWriterRows(client, from, to);
}

/** COPY of the partition's rows in the columns the export reads, to a sink that only counts. */
async function copyOut(client: pg.Client, table: string): Promise<number> {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  await pipeline(client.query(copyTo(`COPY (SELECT ${EVENT_COLUMNS} FROM ${table}) TO STDOUT`)), sink);
  return bytes;
}

/** The job's export step as exportMonth does it, to a folder archive of its own (fsync and rename included). */
async function exportAsTheJob(store: PgRetentionStore, month: string, dir: string): Promise<{ rows: number; bytes: number }> {
  const archive = new DirEventArchive(dir);
  let rows = 0;
  let bytes = 0;
  for (const tenantId of (await store.tenantRows(month)).keys()) {
    const written = await putEventLines(archive, tenantKey(archivePrefix(month, 1), tenantId), store.tenantEvents(month, tenantId));
    rows += written.rows;
    bytes += written.bytes;
  }
  return { rows, bytes };
}

/** The job as `npm run maintenance` runs it, in a process of its own (bench/support/retention-job.ts). */
function runJobProcess(databaseUrl: string, archiveDir: string): Promise<RetentionJobReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/retention-job.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      ARCHIVE_DIR: archiveDir,
      EVENT_RETENTION_DAYS: String(SETTINGS.eventRetentionDays),
      ROLLUP_RETENTION_DAYS: String(SETTINGS.rollupRetentionDays),
      ...(values.duty ? { MAINTENANCE_DUTY_CYCLE: values.duty } : {}),
    },
    // The job's log lines are not what is measured; its errors are shown.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let report: RetentionJobReport | undefined;
    child.once('message', (message) => {
      report = message as RetentionJobReport;
      child.disconnect();
    });
    child.once('exit', (code) => (report && code === 0 ? resolve(report) : reject(new Error(`the job exited with ${code}`))));
  });
}

const KINDS = ['ingest', 'query'] as const;
type Kind = (typeof KINDS)[number];
/** Latencies of every request, and how many of them failed (a 5xx, a timeout, an event refused). */
/** A request's latency, and when it was sent (epoch ms, to place it in a step of the job). */
interface Sample {
  at: number;
  ms: number;
}
type Samples = Record<Kind, Sample[]> & { failed: Record<Kind, number> };

interface Api {
  server: LocalServer;
  headers: Record<string, string>;
}

/** Requests at a fixed schedule, whatever the answers take (no coordinated omission), until stopped. */
function onSchedule(everyMs: number, fire: (tick: number) => Promise<void>): () => Promise<void> {
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const loop = (async () => {
    for (let tick = 0; ; tick++) {
      const wait = started + tick * everyMs - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopped) return;
      const request = fire(tick).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await Promise.all(inFlight);
  };
}

/** Answers whether the request succeeded; its latency is kept either way. */
async function timedPost(api: Api, path: string, body: unknown, samples: Sample[]): Promise<boolean> {
  const at = Date.now();
  const sent = performance.now();
  const response = await fetch(`${api.server.url}${path}`, { method: 'POST', headers: api.headers, body: JSON.stringify(body) });
  const answer = (await response.json()) as { successful?: string[] };
  samples.push({ at, ms: performance.now() - sent });
  return response.status === 200 && (path !== '/v1/events/batch' || answer.successful?.length === BATCH);
}

const liveBatch = () => {
  const timestamp = new Date().toISOString();
  return {
    events: Array.from({ length: BATCH }, (_, index) => ({
      type: index % 10 === 0 ? 'PERFORMANCE' : 'USER_ACTION',
      category: ['navigation', 'checkout', 'search'][index % 3],
      action: ['view', 'click', 'submit'][index % 3],
      ...(index % 10 === 0 ? { value: index } : {}),
      userId: randomUUID(),
      sessionId: `s-${index % 50}`,
      properties: { page: `/p/${index % 40}`, plan: 'pro' },
      context: { locale: 'en-GB', userAgent: 'Mozilla/5.0 bench' },
      timestamp,
    })),
  };
};

const lastDay = () => ({ startTime: new Date(Date.now() - DAY).toISOString(), endTime: new Date().toISOString() });

const PATHS: Record<Kind, string> = { ingest: '/v1/events/batch', query: '/v1/events/query' };
const BODIES: Record<Kind, () => unknown> = {
  ingest: liveBatch,
  query: () => ({ ...lastDay(), eventTypes: ['USER_ACTION'], limit: 100 }),
};

/** Steady ingestion and reads while `work` runs: their latencies, and what `work` answered. */
async function underLoad<T>(api: Api, work: () => Promise<T>): Promise<{ result: T; samples: Samples }> {
  const samples: Samples = { ingest: [], query: [], failed: { ingest: 0, query: 0 } };
  const request = async (kind: Kind) => {
    if (!(await timedPost(api, PATHS[kind], BODIES[kind](), samples[kind]).catch(() => false))) samples.failed[kind] += 1;
  };
  const stopIngest = onSchedule(INGEST_EVERY_MS, () => request('ingest'));
  const stopReads = onSchedule(QUERY_EVERY_MS, () => request('query'));
  try {
    return { result: await work(), samples };
  } finally {
    await Promise.all([stopIngest(), stopReads()]);
  }
}

const pooled = (first: Samples, second: Samples): Samples => ({
  ingest: [...first.ingest, ...second.ingest],
  query: [...first.query, ...second.query],
  failed: { ingest: first.failed.ingest + second.failed.ingest, query: first.failed.query + second.failed.query },
});
const latencies = (samples: Sample[]) => samples.map((sample) => sample.ms).sort((a, b) => a - b);
const p95 = (samples: Sample[]) => percentile(latencies(samples), 95);
const p50 = (samples: Sample[]) => percentile(latencies(samples), 50);
const rate = (rows: number, ms: number) => rows / (ms / 1000);
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

interface SizeResult {
  size: number;
  copyRates: number[];
  exportRates: number[];
  job: RetentionJobReport;
  idle: Samples;
  beside: Samples;
}

async function measureSize(size: number, month: string, client: pg.Client, store: PgRetentionStore, databaseUrl: string, api: Api): Promise<SizeResult> {
  const table = partitionTable(month);
  let started = performance.now();
  await loadEvents(client, EXPIRED_TENANTS, new Date(`${month}T00:00:00Z`), monthEnd(month), size);
  await client.query('ANALYZE');
  await client.query('CHECKPOINT');
  const { rows: [stats] } = await client.query<{ bytes: string }>('SELECT pg_total_relation_size($1) AS bytes', [table]);
  console.log(`\n== ${size} events of ${TENANTS} tenants in ${table} (${(Number(stats?.bytes) / 2 ** 20).toFixed(0)} MB with indexes), loaded in ${((performance.now() - started) / 1000).toFixed(0)} s; load average ${load()}`);

  const copyRates: number[] = [];
  const exportRates: number[] = [];
  for (let round = 1; round <= RUNS; round++) {
    started = performance.now();
    const copyBytes = await copyOut(client, table);
    copyRates.push(rate(size, performance.now() - started));
    const dir = await mkdtemp(join(tmpdir(), 'tracker-bench-export-'));
    try {
      started = performance.now();
      const exported = await exportAsTheJob(store, month, dir);
      exportRates.push(rate(exported.rows, performance.now() - started));
      if (exported.rows !== size) throw new Error(`exported ${exported.rows} of ${size} rows`);
      const ratio = (exportRates.at(-1) ?? 0) / (copyRates.at(-1) ?? 1);
      console.log(`round ${round}: COPY ${copyRates.at(-1)?.toFixed(0)} rows/s (${(copyBytes / 2 ** 20).toFixed(0)} MB text), export ${exportRates.at(-1)?.toFixed(0)} rows/s (${(exported.bytes / 2 ** 20).toFixed(0)} MB gzip) = ${(ratio * 100).toFixed(1)}% of COPY; load ${load()}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const before = await underLoad(api, () => sleep(IDLE_MS));
  const archiveDir = await mkdtemp(join(tmpdir(), 'tracker-bench-archive-'));
  try {
    console.log(`the job starts beside the load; load average ${load()}`);
    const { result: job, samples: beside } = await underLoad(api, () => runJobProcess(databaseUrl, archiveDir));
    const after = await underLoad(api, () => sleep(IDLE_MS));
    const archived = job.summary.archived.find((entry) => entry.month === month);
    if (archived?.rows !== size) throw new Error(`the job archived ${archived?.rows} of ${size} rows`);
    const { rows: [left] } = await client.query<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [table]);
    if (left?.table) throw new Error(`${table} is still there after the job`);
    const idle = pooled(before.samples, after.samples);
    for (const kind of KINDS) {
      console.log(
        `${kind.padEnd(9)} p95 idle before ${p95(before.samples[kind]).toFixed(1)} ms, beside the job ${p95(beside[kind]).toFixed(1)} ms, idle after ${p95(after.samples[kind]).toFixed(1)} ms ` +
          `(${beside[kind].length} requests beside, failed: ${before.samples.failed[kind]} / ${beside.failed[kind]} / ${after.samples.failed[kind]})`,
      );
    }
    return { size, copyRates, exportRates, job, idle, beside };
  } finally {
    await rm(archiveDir, { recursive: true, force: true });
  }
}

function report(result: SizeResult): void {
  const { size, job } = result;
  const copy = median(result.copyRates);
  const exported = median(result.exportRates);
  const ratios = result.exportRates.map((value, index) => value / (result.copyRates[index] ?? NaN));
  const step = (from: keyof RetentionJobReport['steps'], to: keyof RetentionJobReport['steps']) => (job.steps[to] ?? NaN) - (job.steps[from] ?? NaN);
  const exportMs = step('partitions', 'uploaded');
  const archiveMs = step('partitions', 'dropped');
  console.log(`\n-- ${size} events, ${TENANTS} tenants`);
  const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
  console.log(`export step alone (medians of ${RUNS} rounds): ${exported.toFixed(0)} rows/s; COPY TO STDOUT ${copy.toFixed(0)} rows/s; ratio ${percent(median(ratios))} (rounds ${ratios.map(percent).join(', ')}) (goal >= 50%)`);
  console.log(
    `the job beside the load: export+upload ${(exportMs / 1000).toFixed(1)} s = ${rate(size, exportMs).toFixed(0)} rows/s (${((rate(size, exportMs) / copy) * 100).toFixed(1)}% of COPY alone); ` +
      `verify ${(step('uploaded', 'verified') / 1000).toFixed(1)} s, detach ${(step('verified', 'detached') / 1000).toFixed(1)} s, drop ${(step('detached', 'dropped') / 1000).toFixed(1)} s, prune ${(step('dropped', 'pruned') / 1000).toFixed(1)} s; ` +
      `archive step (export to drop) ${(archiveMs / 1000).toFixed(1)} s = ${rate(size, archiveMs).toFixed(0)} rows/s; whole job ${(job.totalMs / 1000).toFixed(1)} s`,
  );
  const peaks = Object.entries(job.stepMaxRssKb).map(([name, kb]) => `${name} ${mb(kb)}`);
  console.log(`job process peak RSS ${mb(job.maxRssKb)} (${mb(job.maxRssBeforeKb)} before the job ran: +${mb(job.maxRssKb - job.maxRssBeforeKb)}); peak so far after ${peaks.join(', ')}`);
  // Which of the job's steps the slow requests fell in: each step's requests against idle.
  const stepsOfJob: Array<[string, keyof RetentionJobReport['steps'], keyof RetentionJobReport['steps']]> = [
    ['export', 'partitions', 'uploaded'],
    ['verify', 'uploaded', 'verified'],
    ['detach + drop', 'verified', 'dropped'],
    ['prune', 'dropped', 'pruned'],
  ];
  for (const [name, from, to] of stepsOfJob) {
    const within = (sample: Sample) => sample.at >= job.startedAt + (job.steps[from] ?? NaN) && sample.at < job.startedAt + (job.steps[to] ?? NaN);
    const figures = KINDS.map((kind) => {
      const inStep = result.beside[kind].filter(within);
      return `${kind} p95 ${p95(inStep).toFixed(1)} ms = ${(p95(inStep) / p95(result.idle[kind])).toFixed(2)}x (${inStep.length})`;
    });
    console.log(`  during ${name.padEnd(13)} ${(step(from, to) / 1000).toFixed(1).padStart(5)} s: ${figures.join(', ')}`);
  }
  for (const kind of KINDS) {
    const ratio = p95(result.beside[kind]) / p95(result.idle[kind]);
    console.log(`${kind.padEnd(9)} p50 / p95 idle ${p50(result.idle[kind]).toFixed(1)} / ${p95(result.idle[kind]).toFixed(1)} ms, beside the job ${p50(result.beside[kind]).toFixed(1)} / ${p95(result.beside[kind]).toFixed(1)} ms: p95 ${ratio.toFixed(2)}x idle (goal <= 1.5x); failed ${result.idle.failed[kind]} idle, ${result.beside.failed[kind]} beside`);
  }
}

async function main(): Promise<void> {
  const month = expiredMonth(new Date());
  const bench = await createServerDatabase(benchServerUrl(), 'tracker_bench');
  const databaseUrl = bench.url ?? '';
  const dataDir = await mkdtemp(join(tmpdir(), 'tracker-bench-'));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let server: LocalServer | undefined;
  try {
    const started = performance.now();
    await loadEvents(client, [LIVE_TENANT], new Date(Date.now() - DAY), new Date(), RECENT);
    console.log(`${RECENT} recent events of the live tenant over the last 24 h loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    // The server's own timer must not run the job: the bench runs it.
    server = await startLocalServer(databaseUrl, dataDir, { MAINTENANCE_INTERVAL_MS: String(10 * DAY) });
    const token = await mintToken({ secret: BENCH_JWT_SECRET, tenantId: LIVE_TENANT, subject: 'bench', scopes: ['events:write', 'events:read'] });
    const api: Api = { server, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } };
    // Warm-up, not measured: connections, compiled code and buffers, under the steady load.
    for (const kind of KINDS) if (!(await timedPost(api, PATHS[kind], BODIES[kind](), []))) throw new Error(`the warm-up ${kind} failed`);
    await underLoad(api, () => sleep(5000));
    const store = new PgRetentionStore(bench.db);
    const results: SizeResult[] = [];
    for (const size of SIZES) results.push(await measureSize(size, month, client, store, databaseUrl, api));

    console.log(`\nexpired month ${month.slice(0, 7)}; ingestion ${values.rate} batches/s of ${BATCH} events, a query every ${QUERY_EVERY_MS} ms, idle phases of ${values.seconds} s before and after the job; the job's duty cycle ${values.duty ?? `default (${Maintenance.parse(process.env).dutyCycle})`}; load average ${load()}`);
    for (const result of results) report(result);
    const [smallest, largest] = [results[0], results.at(-1)];
    if (smallest && largest && smallest !== largest) {
      console.log(`\npeak RSS at ${largest.size} over ${smallest.size} events: ${(largest.job.maxRssKb / smallest.job.maxRssKb).toFixed(2)}x (growth over the idle process ${mb(largest.job.maxRssKb - largest.job.maxRssBeforeKb)} against ${mb(smallest.job.maxRssKb - smallest.job.maxRssBeforeKb)})`);
    }
  } finally {
    await server?.stop();
    await client.end();
    await bench.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
