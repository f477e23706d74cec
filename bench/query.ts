// npm run bench:query [-- --events 1000000 --others 3000000 --runs 50 --vacuum --keep --only <name part>]
// Loads one tenant's events over 90 days and other tenants' events into real Postgres with COPY
// (not measured), runs ANALYZE, then measures p50/p95 of the API's queries through the query
// adapter (transaction, RLS, audit row included), each beside the same query answered from the
// events alone (the raw-table baseline), alternating run by run so that noise hits both alike.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PgEventQueries } from '../lambdas/shared/adapters/pg/pg-event-queries.js';
import type { EventQueries } from '../lambdas/shared/ports/event-queries.js';
import { queryEvents, aggregateEvents, summariseEventTypes } from '../lambdas/shared/use-cases/query-events.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { loadEvents } from './support/bulk-load.js';
import { benchServerUrl, percentile } from './support/stats.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, others: { type: 'string', default: '3000000' }, runs: { type: 'string', default: '50' }, vacuum: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, only: { type: 'string' } } });
const EVENTS = Number(values.events);
const OTHERS = Number(values.others);
const RUNS = Number(values.runs);
const TENANT = '00000000-0000-4000-8000-0000000000aa';
const DAY = 86_400_000;
const END = Date.now();

interface Timing {
  p50: number;
  p95: number;
}

interface Measured {
  name: string;
  /** The first fast run: it builds the event sets the query needs (none yet for its range). */
  first: number;
  fast: Timing;
  raw: Timing;
}

type Run = (queries: EventQueries) => Promise<unknown>;

async function timed(samples: number[], work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await work();
  samples.push(performance.now() - started);
}

function timing(samples: number[]): Timing {
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

async function measure(name: string, run: Run, fast: EventQueries, raw: EventQueries): Promise<Measured> {
  // Warm the plan cache and the buffers once, as a live service would be. The first fast run
  // also builds the event sets of its range, which a live service keeps from earlier queries.
  const firstSamples: number[] = [];
  await timed(firstSamples, () => run(fast));
  await run(raw);
  const fastSamples: number[] = [];
  const rawSamples: number[] = [];
  for (let index = 0; index < RUNS; index++) {
    await timed(fastSamples, () => run(fast));
    await timed(rawSamples, () => run(raw));
  }
  return { name, first: firstSamples[0] ?? 0, fast: timing(fastSamples), raw: timing(rawSamples) };
}

const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;

async function main(): Promise<void> {
  const bench = await createServerDatabase(benchServerUrl(), 'tracker_bench');
  const client = new pg.Client({ connectionString: bench.url });
  await client.connect();
  try {
    const users = await loadEvents(client, { tenant: TENANT, events: EVENTS, others: OTHERS, end: END, vacuum: values.vacuum });
    const fast: EventQueries = new PgEventQueries(bench.db);
    const raw: EventQueries = new PgEventQueries(bench.db, { fastPaths: false });
    const who = { tenantId: TENANT, subject: 'bench' };
    const settings = { eventRetentionDays: 90 };
    const last = (days: number) => ({ startTime: new Date(END - days * DAY).toISOString(), endTime: new Date(END).toISOString() });
    const someUser = users[7] as string;

    const cursorAtPage20 = async () => {
      let cursor: string | undefined;
      for (let page = 1; page < 20; page++) cursor = (await queryEvents(fast, who, { ...last(30), limit: 100, ...(cursor ? { cursor } : {}) }, settings)).nextCursor ?? undefined;
      return cursor;
    };
    const page20 = await cursorAtPage20();

    const cases: Array<[string, Run]> = [
      ['30-day query, type + category', (queries) => queryEvents(queries, who, { ...last(30), eventTypes: ['USER_ACTION'], categories: ['checkout'], limit: 100 }, settings)],
      ['property filter (plan=pro, experiment=e3), 30 days', (queries) => queryEvents(queries, who, { ...last(30), properties: { plan: 'pro', experiment: 'e3' }, limit: 100 }, settings)],
      ['userId filter, 90 days', (queries) => queryEvents(queries, who, { ...last(89), userId: someUser, limit: 100 }, settings)],
      ['page 20 by cursor, 30 days', (queries) => queryEvents(queries, who, { ...last(30), limit: 100, cursor: page20 }, settings)],
      ['aggregate day x 30 days by type', (queries) => aggregateEvents(queries, who, { ...last(30), granularity: 'day', groupBy: ['event_type'] }, settings)],
      ['aggregate hour x 7 days', (queries) => aggregateEvents(queries, who, { ...last(7), granularity: 'hour' }, settings)],
      ['event-types summary, 30 days', (queries) => summariseEventTypes(queries, who, last(30), settings)],
    ];
    const results: Measured[] = [];
    console.log(`${'query'.padEnd(52)} ${'first'.padStart(10)} ${'p50'.padStart(10)} ${'p95'.padStart(10)}   ${'raw p50'.padStart(10)} ${'raw p95'.padStart(10)}   raw/fast p95`);
    for (const [name, run] of cases.filter(([name]) => !values.only || name.includes(values.only))) {
      const result = await measure(name, run, fast, raw);
      results.push(result);
      const ratio = (result.raw.p95 / result.fast.p95).toFixed(1);
      console.log(`${name.padEnd(52)} ${ms(result.first)} ${ms(result.fast.p50)} ${ms(result.fast.p95)}   ${ms(result.raw.p50)} ${ms(result.raw.p95)}   ${ratio.padStart(6)}x${result.fast.p95 < 100 ? '' : '  (goal p95 < 100 ms)'}`);
    }
    console.log(`\n${EVENTS} events of the measured tenant over 90 days, ${OTHERS} of three other tenants; ${RUNS} runs each; ${values.vacuum ? 'VACUUM ANALYZE' : 'ANALYZE'} after the load`);
    const slowest = results.reduce((worst, result) => (result.fast.p95 > worst.fast.p95 ? result : worst));
    console.log(`slowest: ${slowest.name} (its EXPLAIN (ANALYZE, BUFFERS) is in docs/benchmarks.md)`);
  } finally {
    await client.end();
    // --keep: leave the loaded database for EXPLAIN sessions (drop it by hand afterwards).
    if (values.keep) {
      await bench.db.close();
      console.log(`kept: ${bench.url} (tenant ${TENANT})`);
    } else {
      await bench.drop();
    }
  }
}

await main();
