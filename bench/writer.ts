// npm run bench:writer [-- --events 100000 --rounds 3]
// Writer throughput into real Postgres (all indexes, rollups, dedupe, audit) as a ratio to COPY
// of the same rows into the same table, measured alternately in one run.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PgEventStore } from '../lambdas/shared/adapters/pg/pg-event-store.js';
import { createWriteEventsHandler } from '../lambdas/write-events/handler.js';
import { createServerDatabase, type TestDatabase } from '../test/support/test-database.js';
import { noCounterFlush } from '../test/support/factories.js';
import { generateEvents } from './support/generate-events.js';
import { COLUMNS, SQS_BATCH_SIZE, TENANT, toCsv, toSqsBatches } from './support/writer-input.js';
import { benchServerUrl, median } from './support/stats.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' }, naive: { type: 'string', default: '2000' } } });
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const NAIVE_EVENTS = Number(values.naive);

interface Scenario {
  name: string;
  description: string;
  days: number;
  inTimeOrder: boolean;
}

/**
 * Live: what a writer sees in production, events of the last minutes in about the order they
 * happened, so each delivery touches few minute buckets. Backfill: the worst case for the
 * rollups, events scattered over 20 days in random order, nearly one minute bucket per event.
 */
const SCENARIOS: Scenario[] = [
  { name: 'live', description: 'last 10 minutes, in time order', days: 10 / 1440, inTimeOrder: true },
  { name: 'backfill', description: '20 days, random order', days: 20, inTimeOrder: false },
];

async function measure(bench: TestDatabase, client: pg.Client, scenario: Scenario): Promise<{ copy: number; writer: number }> {
  const events = generateEvents({ count: EVENTS, days: scenario.days, inTimeOrder: scenario.inTimeOrder });
  const csv = toCsv(events);
  const sqsBatches = toSqsBatches(events);
  const months = [...new Set(events.map((event) => `${event.timestamp.slice(0, 7)}-01`))];
  await client.query('SELECT ensure_event_partition(m::date) FROM unnest($1::text[]) m', [months]);
  const reset = async () => {
    await client.query('TRUNCATE analytics_events, event_rollups, event_dedupe, audit_log, live_counter_deltas, event_sets, set_members');
    await client.query('CHECKPOINT');
  };
  const log = console.log;
  const copyRates: number[] = [];
  const writerRates: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await reset();
    let started = performance.now();
    await pipeline(Readable.from([csv]), client.query(copyFrom(`COPY analytics_events (${COLUMNS}) FROM STDIN WITH (FORMAT csv)`)));
    copyRates.push(EVENTS / ((performance.now() - started) / 1000));

    await reset();
    // The live counters' flush is bench:live's; their outbox deltas are written here too.
    const store = new PgEventStore(bench.db);
    const writer = createWriteEventsHandler(store, noCounterFlush);
    console.log = () => undefined; // the handler's per-batch log line is not what is measured
    started = performance.now();
    try {
      for (const batch of sqsBatches) {
        const { batchItemFailures } = await writer(batch, { awsRequestId: 'bench' });
        if (batchItemFailures.length > 0) throw new Error('writer failed records');
      }
      // The clock stops when the event sets of every settled period written are kept too (issue 15).
      await store.keepSets();
    } finally {
      console.log = log;
    }
    writerRates.push(EVENTS / ((performance.now() - started) / 1000));
    const stored = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM analytics_events')).rows[0]?.n);
    if (stored !== EVENTS) throw new Error(`writer stored ${stored} of ${EVENTS}`);
    const ratio = (writerRates.at(-1) ?? 0) / (copyRates.at(-1) ?? 1);
    console.log(`${scenario.name} round ${round}: COPY ${copyRates.at(-1)?.toFixed(0)} ev/s, writer ${writerRates.at(-1)?.toFixed(0)} ev/s, ${(ratio * 100).toFixed(1)}%`);
  }
  return { copy: median(copyRates), writer: median(writerRates) };
}

/** The specification's design: one INSERT and three rollup upserts per event, one transaction each. */
async function perEventRate(client: pg.Client): Promise<number> {
  await client.query('TRUNCATE analytics_events, event_rollups, event_dedupe, audit_log, live_counter_deltas');
  const events = generateEvents({ count: NAIVE_EVENTS, days: 10 / 1440, inTimeOrder: true });
  const started = performance.now();
  for (const event of events) {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO analytics_events (${COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
      [TENANT, event.eventId, event.timestamp, event.type, event.category, event.action, event.label, event.value, event.userId, event.sessionId, event.properties, event.context, event.metadata, event.receivedAt],
    );
    for (const granularity of ['minute', 'hour', 'day']) {
      await client.query(
        `INSERT INTO event_rollups (tenant_id, granularity, period_start, event_type, category, action, count, value_count, total_value, min_value, max_value)
         VALUES ($1, $2, date_trunc($2, $3::timestamptz, 'UTC'), $4, $5, $6, 1, ($7::numeric IS NOT NULL)::int, coalesce($7::numeric, 0), $7, $7)
         ON CONFLICT (tenant_id, granularity, period_start, event_type, category, action) DO UPDATE SET count = event_rollups.count + 1`,
        [TENANT, granularity, event.timestamp, event.type, event.category, event.action, event.value],
      );
    }
    await client.query('COMMIT');
  }
  return NAIVE_EVENTS / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const bench = await createServerDatabase(benchServerUrl(), 'tracker_bench');
  const client = new pg.Client({ connectionString: bench.url });
  await client.connect();
  try {
    const results = [];
    for (const scenario of SCENARIOS) results.push({ scenario, ...(await measure(bench, client, scenario)) });
    const naive = await perEventRate(client);
    const liveCopy = results[0]?.copy ?? NaN;

    console.log(`\n${EVENTS} events per run, ${ROUNDS} rounds (medians); writer deliveries of up to ${SQS_BATCH_SIZE} x 256 KiB messages`);
    for (const { scenario, copy, writer } of results) {
      console.log(`${scenario.name.padEnd(9)} (${scenario.description}): COPY ${copy.toFixed(0)} ev/s, writer ${writer.toFixed(0)} ev/s = ${((writer / copy) * 100).toFixed(1)}% of COPY (goal >= 60%)`);
    }
    console.log(`per-event (spec sketch, ${NAIVE_EVENTS} live events): ${naive.toFixed(0)} ev/s = ${((naive / liveCopy) * 100).toFixed(1)}% of live COPY`);
  } finally {
    await client.end();
    await bench.drop();
  }
}

await main();
