// npm run bench:live [-- --events 100000 --rounds 3]
// The live view's figures, one section per measurement:
//   1. Live counters: DynamoDB calls per 1,000 stored events, for 10 and for 1,000 distinct keys.
//   2. Live counters: writer throughput with the counters on, as a ratio to COPY (bench:writer's
//      baseline, measured alternately in the same run) and to the writer without them.
// DynamoDB is dynalite in this process: slower per call than DynamoDB, and its work shares the
// writer's event loop, so the figures of section 2 are pessimistic.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DynamoLiveCounters } from '../lambdas/shared/adapters/dynamodb/dynamo-live-counters.js';
import { countersTableDefinition } from '../lambdas/shared/adapters/dynamodb/tables.js';
import { PgCounterOutbox } from '../lambdas/shared/adapters/pg/pg-counter-outbox.js';
import { PgEventStore } from '../lambdas/shared/adapters/pg/pg-event-store.js';
import { loadConfig, LiveCounters } from '../lambdas/shared/config.js';
import { periodStart } from '../lambdas/shared/domain/live-counters.js';
import type { TrackedEvent } from '../lambdas/shared/domain/event-schemas.js';
import { LiveCounterFlusher } from '../lambdas/shared/use-cases/flush-live-counters.js';
import { createWriteEventsHandler } from '../lambdas/write-events/handler.js';
import { startTestDynamo, type TestDynamo } from '../test/support/embedded-dynamo.js';
import { noCounterFlush, trackedEvent } from '../test/support/factories.js';
import { createServerDatabase, type TestDatabase } from '../test/support/test-database.js';
import { generateEvents } from './support/generate-events.js';
import { benchServerUrl, median } from './support/stats.js';
import { COLUMNS, TENANT, toCsv, toSqsBatches } from './support/writer-input.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } } });
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const SETTINGS = loadConfig({ liveCounters: LiveCounters }).liveCounters;

interface Context {
  bench: TestDatabase;
  client: pg.Client;
  dynamo: TestDynamo;
}

let tables = 0;
async function freshCountersTable(dynamo: TestDynamo): Promise<string> {
  const name = `bench-live-${tables++}`;
  await dynamo.client.send(new CreateTableCommand(countersTableDefinition(name)));
  return name;
}

/** The dynalite client, counting the calls by command. */
function countingClient(real: DynamoDBClient, calls: Map<string, number>): DynamoDBClient {
  return {
    send: (command: Parameters<DynamoDBClient['send']>[0]) => {
      calls.set(command.constructor.name, (calls.get(command.constructor.name) ?? 0) + 1);
      return real.send(command);
    },
  } as unknown as DynamoDBClient;
}

const reset = async (client: pg.Client) => {
  await client.query('TRUNCATE analytics_events, event_rollups, event_dedupe, audit_log, live_counter_deltas');
  await client.query('CHECKPOINT');
};

/** The writer with the counters on, against a table of its own; `calls` counts its DynamoDB calls. */
async function writerWithCounters({ bench, dynamo }: Context, calls = new Map<string, number>()) {
  const counters = new DynamoLiveCounters(countingClient(dynamo.client, calls), await freshCountersTable(dynamo), SETTINGS);
  return { writer: createWriteEventsHandler(new PgEventStore(bench.db), new LiveCounterFlusher(new PgCounterOutbox(bench.db), counters, SETTINGS)), counters, calls };
}

/** Runs every delivery through `writer`, its log lines silenced; answers events per second. */
async function deliver(writer: ReturnType<typeof createWriteEventsHandler>, events: number, batches: ReturnType<typeof toSqsBatches>): Promise<number> {
  const log = console.log;
  console.log = () => undefined;
  const started = performance.now();
  try {
    for (const batch of batches) {
      const { batchItemFailures } = await writer(batch, { awsRequestId: 'bench' });
      if (batchItemFailures.length > 0) throw new Error('writer failed records');
    }
  } finally {
    console.log = log;
  }
  return events / ((performance.now() - started) / 1000);
}

// --- Section 1: live counters, DynamoDB calls per 1,000 stored events -------------------------

/** Deliveries of 1,000 events of the current minute over `keys` distinct (type, category) keys. */
function eventsOverKeys(count: number, keys: number): TrackedEvent[] {
  const now = new Date().toISOString();
  return Array.from({ length: count }, (_, index) => trackedEvent({ timestamp: now, receivedAt: now, type: 'CUSTOM', category: `key-${index % keys}` }));
}

async function callsPerThousandEvents(context: Context, keys: number): Promise<{ perThousand: number; byCommand: Map<string, number> }> {
  await reset(context.client);
  const { writer, counters, calls } = await writerWithCounters(context);
  const deliveries = 10;
  for (let delivery = 0; delivery < deliveries; delivery++) {
    const [batch] = toSqsBatches(eventsOverKeys(1000, keys));
    if (!batch || batch.Records.length !== 1) throw new Error('expected one message of 1,000 events');
    await deliver(writer, 1000, [batch]);
  }
  const all = [...calls.values()].reduce((sum, n) => sum + n, 0);
  const byCommand = new Map(calls);
  const counted = await counters.read(TENANT, 'minute', periodStart(Date.now(), 'hour') - 3_600_000, Date.now() + 60_000);
  const total = counted.reduce((sum, count) => sum + count.count, 0);
  if (total !== deliveries * 1000) throw new Error(`counters hold ${total} of ${deliveries * 1000} events`);
  return { perThousand: all / deliveries, byCommand };
}

// --- Section 2: live counters, writer throughput as a ratio to COPY ---------------------------

async function writerThroughput(context: Context): Promise<{ copy: number; plain: number; counters: number }> {
  // bench:writer's live scenario: the last 10 minutes, in time order.
  const events = generateEvents({ count: EVENTS, days: 10 / 1440, inTimeOrder: true });
  const csv = toCsv(events);
  const batches = toSqsBatches(events);
  const months = [...new Set(events.map((event) => `${event.timestamp.slice(0, 7)}-01`))];
  await context.client.query('SELECT ensure_event_partition(m::date) FROM unnest($1::text[]) m', [months]);
  const rates = { copy: [] as number[], plain: [] as number[], counters: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    await reset(context.client);
    const started = performance.now();
    await pipeline(Readable.from([csv]), context.client.query(copyFrom(`COPY analytics_events (${COLUMNS}) FROM STDIN WITH (FORMAT csv)`)));
    rates.copy.push(EVENTS / ((performance.now() - started) / 1000));

    // The two writers in turn first, so that neither always runs on what the other left behind.
    const calls = new Map<string, number>();
    const runs = [
      async () => {
        await reset(context.client);
        rates.plain.push(await deliver(createWriteEventsHandler(new PgEventStore(context.bench.db), noCounterFlush), EVENTS, batches));
      },
      async () => {
        await reset(context.client);
        rates.counters.push(await deliver((await writerWithCounters(context, calls)).writer, EVENTS, batches));
        const [left] = (await context.client.query<{ n: string }>('SELECT count(*) AS n FROM live_counter_deltas')).rows;
        if (Number(left?.n) !== 0) throw new Error(`${left?.n} deltas left unflushed`);
      },
    ];
    for (const run of round % 2 === 0 ? runs : runs.reverse()) await run();

    const [copy, plain, withCounters] = [rates.copy, rates.plain, rates.counters].map((list) => list.at(-1) ?? NaN) as [number, number, number];
    const dynamoCalls = [...calls.values()].reduce((sum, n) => sum + n, 0);
    console.log(
      `round ${round}: COPY ${copy.toFixed(0)} ev/s, writer ${plain.toFixed(0)} ev/s (${((plain / copy) * 100).toFixed(1)}%), with counters ${withCounters.toFixed(0)} ev/s (${((withCounters / copy) * 100).toFixed(1)}%), ${((dynamoCalls / EVENTS) * 1000).toFixed(1)} DynamoDB calls per 1,000 events`,
    );
  }
  return { copy: median(rates.copy), plain: median(rates.plain), counters: median(rates.counters) };
}

async function main(): Promise<void> {
  const bench = await createServerDatabase(benchServerUrl(), 'tracker_bench');
  const client = new pg.Client({ connectionString: bench.url });
  await client.connect();
  const dynamo = await startTestDynamo([]);
  const context = { bench, client, dynamo };
  try {
    console.log(`live counters: ${SETTINGS.shards} shards, TTL ${SETTINGS.ttlHours} h`);
    console.log('\n== Live counters: DynamoDB calls per 1,000 stored events (10 deliveries of 1,000) ==');
    for (const keys of [10, 1000]) {
      const { perThousand, byCommand } = await callsPerThousandEvents(context, keys);
      console.log(`${String(keys).padStart(5)} distinct keys: ${perThousand.toFixed(1)} calls (${[...byCommand].map(([name, n]) => `${name.replace('Command', '')} ${n}`).join(', ')})`);
    }

    console.log(`\n== Live counters: writer throughput, ${EVENTS} live events, ${ROUNDS} rounds ==`);
    const { copy, plain, counters } = await writerThroughput(context);
    console.log(`medians: COPY ${copy.toFixed(0)} ev/s; writer ${plain.toFixed(0)} ev/s = ${((plain / copy) * 100).toFixed(1)}% of COPY; with counters ${counters.toFixed(0)} ev/s = ${((counters / copy) * 100).toFixed(1)}% of COPY (goal >= 60%), ${((counters / plain) * 100).toFixed(1)}% of the writer without`);
  } finally {
    await client.end();
    await dynamo.stop();
    await bench.drop();
  }
}

await main();
