import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createGetEventHandler } from '../../../../../lambdas/get-event/handler.js';
import type { ApiEvent } from '../../../../../lambdas/shared/adapters/http/api-gateway.js';
import { InMemoryRateLimiter } from '../../../../../lambdas/shared/adapters/local/in-memory-rate-limiter.js';
import { PgEventStore } from '../../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { openDatabase, type SqlDatabase } from '../../../../../lambdas/shared/adapters/pg/sql-database.js';
import { createWriteEventsHandler } from '../../../../../lambdas/write-events/handler.js';
import { MAX_RECEIVE_COUNT } from '../../../../../lib/constructs/event-queue.js';
import { envelope, messageBody, noCounterFlush, TENANT_A, trackedEvent } from '../../../../support/factories.js';
import { PausablePort } from '../../../../support/pausable-port.js';
import { createServerDatabase, type TestDatabase } from '../../../../support/test-database.js';

const serverUrl = process.env['DATABASE_URL'];
const OUTAGE_MS = 20_000;
// The deployed ratios, scaled down: a wait per attempt well under the outage, a visibility
// timeout that spaces the receives so that the outage ends before the DLQ's receive count.
const WAIT_MS = 3_000;
const VISIBILITY_MS = 6_000;

interface QueuedRecord {
  messageId: string;
  body: string;
  receives: number;
  visibleAt: number;
}

/** SQS as the writer sees it: batches of 10, failed records back after the visibility timeout, a DLQ after MAX_RECEIVE_COUNT receives. */
class SimulatedQueue {
  readonly records: QueuedRecord[] = [];
  readonly deadLetters: QueuedRecord[] = [];
  receives = 0;
  failedReceives = 0;

  send(body: string): void {
    this.records.push({ messageId: `m${this.records.length + this.deadLetters.length}-${Date.now()}`, body, receives: 0, visibleAt: 0 });
  }

  async drain(write: ReturnType<typeof createWriteEventsHandler>): Promise<void> {
    while (this.records.length > 0) {
      const now = Date.now();
      const batch = this.records.filter((record) => record.visibleAt <= now).slice(0, 10);
      if (batch.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      for (const record of batch) {
        record.receives += 1;
        record.visibleAt = Date.now() + VISIBILITY_MS;
      }
      this.receives += 1;
      const { batchItemFailures } = await write({ Records: batch.map(({ messageId, body }) => ({ messageId, body })) } as never, { awsRequestId: `delivery-${this.receives}` });
      const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
      if (failed.size > 0) this.failedReceives += 1;
      for (const record of batch) {
        if (failed.has(record.messageId) && record.receives < MAX_RECEIVE_COUNT) continue;
        this.records.splice(this.records.indexOf(record), 1);
        if (failed.has(record.messageId)) this.deadLetters.push(record);
      }
    }
  }
}

const getRequest = (eventId: string): ApiEvent =>
  ({
    httpMethod: 'GET',
    resource: '/v1/events/{eventId}',
    headers: {},
    pathParameters: { eventId },
    requestContext: { authorizer: { tenantId: TENANT_A, subject: 'reader', scopes: 'events:read' } },
  }) as unknown as ApiEvent;
const context = { awsRequestId: 'read-1' } as Context;

describe.skipIf(!serverUrl)('a database that refuses connections for 20 s (Aurora pausing and resuming)', () => {
  let test: TestDatabase;
  let port: PausablePort;
  let reader: SqlDatabase;
  let writer: SqlDatabase;

  beforeAll(async () => {
    test = await createServerDatabase(serverUrl as string, 'tracker_pause');
    port = await PausablePort.open(new URL(test.url as string));
    const throughPort = { databaseUrl: port.urlFor(test.url as string), poolSize: 2, connectWait: { waitMs: WAIT_MS, retryMs: 200 } };
    reader = await openDatabase(throughPort);
    writer = await openDatabase(throughPort);
  });

  afterAll(async () => {
    await Promise.all([reader?.close(), writer?.close()]);
    await port?.close();
    await test?.drop();
  });

  it('loses no event, sends nothing to the DLQ, and answers reads 503 with Retry-After, then 200', { timeout: 120_000 }, async () => {
    const write = createWriteEventsHandler(new PgEventStore(writer), noCounterFlush);
    const read = createGetEventHandler({
      store: new PgEventStore(reader),
      limiter: new InMemoryRateLimiter({ requests: { ratePerSecond: 1000, burst: 1000 }, events: { ratePerSecond: 100_000, burst: 100_000 } }),
      http: { corsOrigins: [] },
    });
    const queue = new SimulatedQueue();
    const before = trackedEvent();
    queue.send(messageBody(envelope([before])));
    await queue.drain(write);
    expect((await read(getRequest(before.eventId), context)).statusCode).toBe(200);

    const outage = port.refuseFor(OUTAGE_MS);
    // Aurora pauses only once nothing is connected: let the pools see their connections gone.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = Array.from({ length: 30 }, () => envelope(Array.from({ length: 20 }, () => trackedEvent())));
    for (const request of during) queue.send(messageBody(request));
    const draining = queue.drain(write);

    const started = Date.now();
    const refused = await read(getRequest(before.eventId), context);
    const waitedMs = Date.now() - started;
    expect(refused.statusCode).toBe(503);
    expect(refused.headers?.['content-type']).toBe('application/problem+json');
    expect(Number(refused.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 503, type: '/problems/unavailable' });
    // Bounded: the wait, one retry interval and the scheduling of a loaded machine.
    expect(waitedMs).toBeGreaterThanOrEqual(WAIT_MS - 500);
    expect(waitedMs).toBeLessThan(WAIT_MS + 2_000);

    await outage;
    await draining;
    const last = during.at(-1)?.events.at(-1);
    expect((await read(getRequest(last?.eventId as string), context)).statusCode).toBe(200);

    const [stored] = await test.db.query<{ count: string }>('SELECT count(*) FROM analytics_events');
    expect(Number(stored?.count)).toBe(1 + during.length * 20);
    expect(queue.deadLetters).toEqual([]);
    expect(queue.failedReceives).toBeGreaterThan(0);
  });
});
