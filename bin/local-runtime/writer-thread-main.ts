import { parentPort, workerData } from 'node:worker_threads';
import { QueueEventSource } from '../../lambdas/shared/adapters/local/queue-event-source.js';
import { DynamoLiveCounters } from '../../lambdas/shared/adapters/dynamodb/dynamo-live-counters.js';
import { localDynamoClient } from '../../lambdas/shared/adapters/local/embedded-dynamodb.js';
import { PgCounterOutbox } from '../../lambdas/shared/adapters/pg/pg-counter-outbox.js';
import { PgEventStore } from '../../lambdas/shared/adapters/pg/pg-event-store.js';
import { LiveCounterFlusher } from '../../lambdas/shared/use-cases/flush-live-counters.js';
import { PgMessageQueue } from '../../lambdas/shared/adapters/pg/pg-message-queue.js';
import { openDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';
import type { StoredEventPublisher } from '../../lambdas/shared/ports/stored-event-publisher.js';
import { createWriteEventsHandler } from '../../lambdas/write-events/handler.js';
import { WriterThreadDataSchema, WriterThreadRequestSchema, type WriterThreadReply } from './writer-thread.js';

// The writer thread's composition root: its own pool, queue, store and event source.
const data = WriterThreadDataSchema.parse(workerData);
const port = parentPort;
if (!port) throw new Error('writer-thread-main runs as a worker thread only');
const reply = (message: WriterThreadReply) => port.postMessage(message);

const db = await openDatabase({ databaseUrl: data.databaseUrl, poolSize: data.poolSize });
const queue = await PgMessageQueue.open(db);
const dynamo = localDynamoClient(data.liveCounters.endpoint);
const counters = new LiveCounterFlusher(new PgCounterOutbox(db), new DynamoLiveCounters(dynamo, data.liveCounters.table, data.liveCounters.settings), data.liveCounters.settings);

/** The hub lives in the HTTP side's thread: its tenants come in, the stored events go out. */
let streamed = new Map<string, number | null>();
const publisher: StoredEventPublisher = {
  async subscribedTenants(tenantIds) {
    const now = Date.now();
    return new Set(tenantIds.filter((tenantId) => {
      const until = streamed.get(tenantId);
      return until === null || (until !== undefined && until > now);
    }));
  },
  async publish(batches) {
    reply({ type: 'published', batches: [...batches] });
  },
};
const store = new PgEventStore(db, { keepPendingSets: true });
const source = new QueueEventSource(queue, createWriteEventsHandler(store, counters, publisher), data.queue);

port.on('message', (message: unknown) => {
  const request = WriterThreadRequestSchema.parse(message);
  if (request.type === 'wake') source.wake();
  else if (request.type === 'streamed-tenants') streamed = new Map(request.tenants);
  else if (request.type === 'drained') void source.drained().then(() => reply({ type: 'drained', id: request.id }));
  else
    void source
      .drainAndStop(request.drainMs)
      .then(() => store.stopKeeping())
      .then(() => {
        dynamo.destroy();
        return db.close();
      })
      .then(() => reply({ type: 'stopped' }));
});
source.start();
