// One writer of `bench:query --load N`, in a process of its own as a writer Lambda would be:
// deliveries of live events (the last ten minutes, in time order) through the write handler
// (dedupe, rollups, audit, counter outbox) for the load tenant, one after another until its
// parent sends 'stop'; then it reports how many events it stored.
import { openDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';
import { PgEventStore } from '../../lambdas/shared/adapters/pg/pg-event-store.js';
import { createWriteEventsHandler } from '../../lambdas/write-events/handler.js';
import { noCounterFlush } from '../../test/support/factories.js';
import { generateEvents } from './generate-events.js';
import { toSqsBatches } from './writer-input.js';

export interface LoadWriterReport {
  stored: number;
  deliveries: number;
}

const [databaseUrl, tenantId, seedText] = process.argv.slice(2);
if (!databaseUrl || !tenantId) throw new Error('usage: load-writer.ts <database url> <tenant id> [seed]');
const db = await openDatabase({ databaseUrl, poolSize: 1 });
const writer = createWriteEventsHandler(new PgEventStore(db), noCounterFlush);
let stopping = false;
process.on('message', () => {
  stopping = true;
});
const report: LoadWriterReport = { stored: 0, deliveries: 0 };
let seed = Number(seedText ?? 1) * 1_000_000;
while (!stopping) {
  const events = generateEvents({ count: 6_000, days: 10 / 1440, inTimeOrder: true, seed: seed++ });
  for (const batch of toSqsBatches(events, tenantId)) {
    const { batchItemFailures } = await writer(batch, { awsRequestId: 'bench-load' });
    if (batchItemFailures.length > 0) throw new Error('load writer: records failed');
    report.deliveries++;
  }
  report.stored += events.length;
  process.send?.({ started: true });
}
await db.close();
process.send?.(report, () => process.exit(0));
