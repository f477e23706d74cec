import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { QueueEventSource, toSqsRecord } from '../../../../../lambdas/shared/adapters/local/queue-event-source.js';
import { PgMessageQueue } from '../../../../../lambdas/shared/adapters/pg/pg-message-queue.js';
import { PgEventStore } from '../../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { PgEventSets } from '../../../../../lambdas/shared/adapters/pg/pg-event-sets.js';
import { inTenantTransaction } from '../../../../../lambdas/shared/adapters/pg/tenant-transaction.js';
import { streamedEventsOfRows } from '../../../../../lambdas/shared/domain/streamed-events.js';
import { createWriteEventsHandler } from '../../../../../lambdas/write-events/handler.js';
import { envelope, messageBody, noCounterFlush, queueMessage, received, TENANT_A, TENANT_B, trackedEvent, type TestEnvelope } from '../../../../support/factories.js';
import { recordMetrics } from '../../../../support/emf.js';
import { FlakyDatabase } from '../../../../support/flaky-database.js';
import { interrupting } from '../../../../support/interrupting-database.js';
import { rollupMismatches } from '../../../../support/rollup-check.js';
import { createTestDatabase, type TestDatabase } from '../../../../support/test-database.js';

let testDb: TestDatabase;
let store: PgEventStore;

const write = (...envelopes: TestEnvelope[]) => store.writeMessages(envelopes.map(received));
const count = async (sql: string, params: unknown[] = []) => Number((await testDb.db.query<{ n: string | number }>(sql, params))[0]?.n);

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await testDb.drop();
});

beforeEach(async () => {
  await testDb.db.exec('TRUNCATE analytics_events, event_rollups, event_dedupe, audit_log, live_counter_deltas');
  store = new PgEventStore(testDb.db);
});

describe('PgEventStore.writeEnvelopes', () => {
  it('stores every event with its details and returns it by id', async () => {
    const event = trackedEvent({ type: 'PERFORMANCE', value: 12.5, userId: '6f1c1b3e-8d4f-4a53-9b8e-2a7d7f1b2c3d', properties: { page: '/a', nested: { ok: true } }, context: { locale: 'en' }, metadata: { source: 'web' } });

    const summary = await write(envelope([event]));
    const found = await store.findEvent(TENANT_A, event.eventId);

    expect(summary).toEqual({ stored: 1, duplicates: 0, storedEvents: [] });
    expect(found).toMatchObject({ ...event, storedAt: expect.any(String) });
  });

  it('hands back the staged rows of the tenants asked for, whose events are what GET /v1/events/{eventId} answers, without duplicates', async () => {
    const seen = trackedEvent();
    await write(envelope([seen]));
    // What COPY unescapes and Postgres normalises: upper-case ids, escapes, a number jsonb writes otherwise.
    const fresh = trackedEvent({
      eventId: randomUUID().toUpperCase(), value: 2.5, userId: randomUUID().toUpperCase(), sessionId: 's\u0001x',
      label: 'tab\there "quoted" \\ back\nline é 😀', properties: { plan: 'pro', 'key\twith': ['a\\b', 1e21, 0.1, null, { deep: '\n' }] },
    });
    const repeated = { ...fresh, label: 'a later row of the same id, not stored' };

    const summary = await store.writeMessages([received(envelope([seen, fresh, repeated])), received(envelope([trackedEvent()], { tenantId: TENANT_B }))], { returnEventsOf: new Set([TENANT_A]) });

    expect(summary).toMatchObject({ stored: 2, duplicates: 2 });
    expect(summary.storedEvents.map((batch) => batch.tenantId)).toEqual([TENANT_A]);
    const events = summary.storedEvents.flatMap(({ rows, storedAt, notNew }) => streamedEventsOfRows(rows, storedAt, new Set(notNew)).map((event) => JSON.parse(event.json) as unknown));
    expect(events).toEqual([await store.findEvent(TENANT_A, fresh.eventId)]);
  });

  it('stores a redelivered message once and leaves the rollups as they were', async () => {
    const message = envelope([trackedEvent({ value: 3 }), trackedEvent({ value: 4 })]);

    await write(message);
    const again = await write(message);

    expect(again).toEqual({ stored: 0, duplicates: 2, storedEvents: [] });
    expect(await count('SELECT count(*) AS n FROM analytics_events')).toBe(2);
    expect(await count(`SELECT sum(count) AS n FROM event_rollups WHERE granularity = 'day'`)).toBe(2);
    expect(await rollupMismatches(testDb.db)).toEqual([]);
  });

  it('stores an id sent twice once, even when the retry carries another timestamp and month', async () => {
    const first = trackedEvent({ timestamp: new Date(Date.now() - 40 * 86_400_000).toISOString() });
    const retry = { ...first, timestamp: new Date().toISOString() };

    await write(envelope([first]));
    await write(envelope([retry]));

    expect(await count('SELECT count(*) AS n FROM analytics_events WHERE event_id = $1', [first.eventId])).toBe(1);
    expect((await store.findEvent(TENANT_A, first.eventId))?.timestamp).toBe(first.timestamp);
  });

  it('keeps the first of an id repeated inside one batch', async () => {
    const event = trackedEvent();
    const summary = await write(envelope([event, { ...event, action: 'second' }]));
    expect(summary).toEqual({ stored: 1, duplicates: 1, storedEvents: [] });
  });

  it('analyzes a partition the writes grew past its statistics, and not again until it grows a tenth more', async () => {
    const eager = new PgEventStore(testDb.db, { statisticsCheckMs: 0 });
    const stats = async () =>
      (await testDb.db.query<{ tuples: number }>(`SELECT reltuples::int AS tuples FROM pg_class WHERE relname = 'analytics_events_2025_03'`))[0]?.tuples;
    const inMarch = (n: number) => Array.from({ length: n }, (_, i) => trackedEvent({ timestamp: `2025-03-0${1 + (i % 9)}T10:00:00.000Z`, properties: { pad: 'x'.repeat(400) } }));
    await testDb.db.query(`SELECT ensure_event_partition('2025-03-01')`);
    await testDb.db.query(`ANALYZE analytics_events_2025_03`);

    await eager.writeMessages([received(envelope(inMarch(400)))]);
    expect(await stats()).toBe(400);
    await eager.writeMessages([received(envelope(inMarch(10)))]);
    expect(await stats()).toBe(400);
  });

  it('keeps the event sets of what it wrote: at once when due, otherwise once the interval is over', async () => {
    const tenantId = randomUUID();
    const keeper = new PgEventStore(testDb.db, { setKeepingMs: 300, keepPendingSets: true });
    const sets = new PgEventSets(testDb.db);
    const hourOf = (day: number) => Array.from({ length: 5 }, (_, i) => trackedEvent({ timestamp: `2025-04-0${day}T10:0${i}:00.000Z`, userId: randomUUID() }));
    const touched = (day: number) => ({ from: Date.parse(`2025-04-0${day}T10:00:00Z`), to: Date.parse(`2025-04-0${day}T10:59:00Z`) });
    try {
      await keeper.writeMessages([received(envelope(hourOf(1), { tenantId }))]);
      expect(await sets.keep(tenantId, touched(1))).toBe(0);

      // Within the interval: left pending, then kept by the timer with no write to trigger it.
      await keeper.writeMessages([received(envelope(hourOf(2), { tenantId }))]);
      await vi.waitFor(async () => {
        const kept = await inTenantTransaction(testDb.db, tenantId, (session) => session.query<{ n: number }>(`SELECT count(*)::int AS n FROM event_sets WHERE period_start >= '2025-04-02'`));
        // Its hour and its day per type, and its day per type, category and action (one key).
        expect(kept[0]?.n).toBe(3);
      }, { timeout: 10_000, interval: 100 });
      expect(await sets.keep(tenantId, touched(2))).toBe(0);
    } finally {
      await keeper.stopKeeping();
    }
  });

  it('stores a delivery whose sets could not be kept, and leaves them to be read from the events', async () => {
    const tenantId = randomUUID();
    const failing = interrupting(testDb.db, 'INSERT INTO event_sets', () => Promise.reject(new Error('connection lost while keeping sets')));
    const summary = await new PgEventStore(failing, { setKeepingMs: 0 }).writeMessages([received(envelope([trackedEvent({ timestamp: '2025-04-03T10:00:00.000Z' })], { tenantId }))]);

    expect(summary.stored).toBe(1);
    expect(await new PgEventSets(testDb.db).keep(tenantId, { from: Date.parse('2025-04-03T10:00:00Z'), to: Date.parse('2025-04-03T10:00:00Z') })).toBe(2);
  });

  it('creates the partition of a month that has none instead of failing', async () => {
    const old = new Date(Date.now() - 85 * 86_400_000);
    const partition = `analytics_events_${old.toISOString().slice(0, 7).replace('-', '_')}`;
    await testDb.db.exec(`DROP TABLE IF EXISTS ${partition}`);

    await write(envelope([trackedEvent({ timestamp: old.toISOString() })]));

    expect(await count(`SELECT count(*) AS n FROM ${partition}`)).toBe(1);
  });

  it('counts PartitionCreatedOnTheFly for a month it had to create, and nothing for one that exists', async () => {
    const old = new Date(Date.now() - 85 * 86_400_000);
    await testDb.db.exec(`DROP TABLE IF EXISTS analytics_events_${old.toISOString().slice(0, 7).replace('-', '_')}`);
    const metrics = recordMetrics();

    await write(envelope([trackedEvent({ timestamp: old.toISOString() })]));
    await new PgEventStore(testDb.db).writeMessages([received(envelope([trackedEvent({ timestamp: old.toISOString() })]))]);

    expect(metrics.datapoints()).toEqual([{ metric: 'PartitionCreatedOnTheFly', dimensions: {}, value: 1 }]);
    vi.restoreAllMocks();
  });

  it('recreates a partition dropped behind a warm writer’s back', async () => {
    const event = trackedEvent();
    await write(envelope([event]));
    const partition = `analytics_events_${event.timestamp.slice(0, 7).replace('-', '_')}`;
    await testDb.db.exec(`DROP TABLE ${partition}`);

    await expect(write(envelope([trackedEvent()]))).resolves.toEqual({ stored: 1, duplicates: 0, storedEvents: [] });
  });

  it('keeps rollups per minute, hour and day equal to the events, with sum, min and max', async () => {
    const base = Date.parse('2026-11-20T10:15:00Z');
    const events = Array.from({ length: 60 }, (_, index) =>
      trackedEvent({
        type: index % 2 ? 'PERFORMANCE' : 'CUSTOM',
        action: `a${index % 3}`,
        value: index % 4 === 0 ? null : index,
        timestamp: new Date(base + index * 97_000).toISOString(),
      }),
    );

    await write(envelope(events.slice(0, 30)));
    await write(envelope(events.slice(30)), envelope(events.slice(20, 40)));

    expect(await rollupMismatches(testDb.db)).toEqual([]);
    expect(await count(`SELECT sum(count) AS n FROM event_rollups WHERE granularity = 'minute'`)).toBe(60);
  });

  it('writes the audit trail: one EVENTS_TRACKED per actor, SECURITY events, and the batch summary once', async () => {
    const request = envelope([trackedEvent({ type: 'SECURITY', metadata: { severity: 'MEDIUM' } }), trackedEvent()], {
      batchSummary: { total: 3, accepted: 2, rejected: 1 },
    });

    await write(request);
    await write(request);

    const rows = await testDb.db.query<{ action: string; actor: string; details: Record<string, unknown> }>('SELECT action, actor, details FROM audit_log ORDER BY action');
    expect(rows).toEqual([
      { action: 'EVENTS_BATCH_PROCESSED', actor: 'tester', details: { requestId: request.requestId, total: 3, accepted: 2, rejected: 1 } },
      { action: 'EVENTS_TRACKED', actor: 'tester', details: { stored: 2, byType: { CUSTOM: 1, SECURITY: 1 }, categories: ['test'], requestIds: [request.requestId], uniqueUsers: 0, userIds: [] } },
      { action: 'SECURITY_EVENT', actor: 'tester', details: expect.objectContaining({ severity: 'MEDIUM' }) },
    ]);
  });

  it('names in EVENTS_TRACKED the users of the stored events: how many, and the first 100 by id', async () => {
    const users = Array.from({ length: 120 }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);
    const events = [...users, ...users.slice(0, 10)].map((userId) => trackedEvent({ userId }));

    await write(envelope([...events, trackedEvent()]), envelope([trackedEvent({ userId: users[0] })], { actor: 'other' }));

    const rows = await testDb.db.query<{ actor: string; details: { uniqueUsers: number; userIds: string[] } }>(`SELECT actor, details FROM audit_log WHERE action = 'EVENTS_TRACKED' ORDER BY actor`);
    expect(rows.map((row) => [row.actor, row.details.uniqueUsers, row.details.userIds])).toEqual([
      ['other', 1, [users[0]]],
      ['tester', 120, users.slice(0, 100)],
    ]);
  });

  it('audits a batch whose every item was refused, from a message without rows, once even when redelivered', async () => {
    const refused = envelope([], { batchSummary: { total: 2, accepted: 0, rejected: 2 } });

    await write(refused);
    const again = await write(refused, refused);

    const rows = await testDb.db.query<{ action: string; details: Record<string, unknown> }>('SELECT action, details FROM audit_log');
    expect(again).toEqual({ stored: 0, duplicates: 0, storedEvents: [] });
    expect(rows).toEqual([{ action: 'EVENTS_BATCH_PROCESSED', details: { requestId: refused.requestId, total: 2, accepted: 0, rejected: 2 } }]);
  });

  it('audits a batch whose events were all stored before, once', async () => {
    const event = trackedEvent();
    await write(envelope([event]));
    const retry = envelope([event], { batchSummary: { total: 1, accepted: 1, rejected: 0 } });

    await write(retry);
    await write(retry);

    expect(await count(`SELECT count(*) AS n FROM audit_log WHERE action = 'EVENTS_BATCH_PROCESSED' AND details->>'requestId' = $1`, [retry.requestId])).toBe(1);
  });

  it('audits the same request id of two tenants for each of them', async () => {
    const summary = { total: 1, accepted: 0, rejected: 1 };
    await write(envelope([], { requestId: 'shared', batchSummary: summary }), envelope([], { tenantId: TENANT_B, requestId: 'shared', batchSummary: summary }));

    expect(await count(`SELECT count(*) AS n FROM audit_log WHERE action = 'EVENTS_BATCH_PROCESSED'`)).toBe(2);
  });
});

describe('tenant isolation in Postgres', () => {
  it('lets the application role see only the tenant of its transaction, even unscoped', async () => {
    await write(envelope([trackedEvent(), trackedEvent()]), envelope([trackedEvent()], { tenantId: TENANT_B }));

    const seenByA = await inTenantTransaction(testDb.db, TENANT_A, (session) => session.query<{ n: string | number }>('SELECT count(*) AS n FROM analytics_events'));
    const seenByB = await inTenantTransaction(testDb.db, TENANT_B, (session) => session.query<{ n: string | number }>('SELECT count(*) AS n FROM event_rollups WHERE tenant_id = $1', [TENANT_A]));

    expect(Number(seenByA[0]?.n)).toBe(2);
    expect(Number(seenByB[0]?.n)).toBe(0);
  });

  it('binds every table with a tenant column by forced row-level security', async () => {
    const tables = await testDb.db.query<{ relname: string; bound: boolean }>(
      `SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity AS bound FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    );

    expect(tables.filter((table) => !table.bound)).toEqual([]);
    expect(tables.map((table) => table.relname)).toEqual(expect.arrayContaining(['analytics_events', 'event_sets', 'set_members']));
  });

  it('refuses a write for another tenant than the transaction’s', async () => {
    await expect(
      inTenantTransaction(testDb.db, TENANT_A, (session) =>
        session.query(`INSERT INTO event_dedupe (tenant_id, event_id, event_timestamp) VALUES ($1, gen_random_uuid(), now())`, [TENANT_B]),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('does not let the application role change or delete audit rows', async () => {
    await write(envelope([trackedEvent()]));
    await expect(inTenantTransaction(testDb.db, TENANT_A, (session) => session.query('DELETE FROM audit_log'))).rejects.toThrow(/permission denied/);
    await expect(inTenantTransaction(testDb.db, TENANT_A, (session) => session.query(`UPDATE audit_log SET actor = 'x'`))).rejects.toThrow(/permission denied/);
  });

  it('carries no tenant or role from one transaction into the next on the same connection', async () => {
    await inTenantTransaction(testDb.db, TENANT_A, async () => undefined);
    const [after] = await testDb.db.transaction((session) => session.query<{ tenant: string | null; role: string }>(`SELECT current_setting('app.tenant_id', true) AS tenant, current_user AS role`));
    expect(after?.tenant ?? '').toBe('');
    expect(after?.role).not.toBe('tracker_app');
  });

  it('does not find another tenant’s event by id', async () => {
    const event = trackedEvent();
    await write(envelope([event], { tenantId: TENANT_B }));
    expect(await store.findEvent(TENANT_A, event.eventId)).toBeUndefined();
  });
});

describe('the writer on a real database', () => {
  it('fails only the record whose event the database refuses, and stores the others', async () => {
    const writer = createWriteEventsHandler(store, noCounterFlush);
    const good = envelope([trackedEvent(), trackedEvent()]);
    const refused = envelope([trackedEvent({ category: 'c'.repeat(150) })]);
    const records = [good, refused].map((item, index) => toSqsRecord({ messageId: `m${index}`, body: messageBody(item) }));

    const response = await writer({ Records: records }, { awsRequestId: 'test' });

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(await count('SELECT count(*) AS n FROM analytics_events')).toBe(2);
    expect(await rollupMismatches(testDb.db)).toEqual([]);
  });

  it('fails only a record whose rows the database cannot read, and stores the others', async () => {
    const writer = createWriteEventsHandler(store, noCounterFlush);
    const good = messageBody(envelope([trackedEvent(), trackedEvent()], { tenantId: TENANT_B }));
    const forged = messageBody(envelope([trackedEvent()]));
    const bodies = [good, forged.replace(/\t[0-9T:.-]+Z\t/, '\tnot-a-time\t'), `${forged}too\tfew\tfields\n`, `${forged}\\.\n`];
    const records = bodies.map((body, index) => toSqsRecord({ messageId: `m${index}`, body }));

    const response = await writer({ Records: records }, { awsRequestId: 'test' });

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }]);
    expect(await count('SELECT count(*) AS n FROM analytics_events')).toBe(2);
    expect(await count('SELECT count(*) AS n FROM event_dedupe')).toBe(2);
    expect(await rollupMismatches(testDb.db)).toEqual([]);
  });

  it('stores any text exactly as sent: COPY escapes, JSON escapes, quotes, emoji', async () => {
    const hostile = ['\\N', '\\.', 'tab\there', 'line\nbreak\r\n', '\u0001\u001f', '\\x41', '"quoted" \'single\'', '{"json":"\\u0000"}', '💥 ü 中', '\\'];
    const events = hostile.map((text) => trackedEvent({ category: text, label: text, sessionId: text.slice(0, 64), properties: { [text]: text, nested: [text] }, context: { page: text } }));

    await write(envelope(events, { actor: 'actor\twith\ttabs', requestId: 'req\\1' }));

    for (const event of events) {
      expect(await store.findEvent(TENANT_A, event.eventId)).toMatchObject({
        category: event.category, label: event.label, sessionId: event.sessionId, properties: event.properties, context: event.context,
      });
    }
    const [audit] = await testDb.db.query<{ actor: string; details: { requestIds: string[] } }>(`SELECT actor, details FROM audit_log WHERE action = 'EVENTS_TRACKED'`);
    expect(audit).toEqual({ actor: 'actor\twith\ttabs', details: expect.objectContaining({ requestIds: ['req\\1'] }) });
  });
});

describe('replaying the dead-letter queue', () => {
  it('stores nothing twice when the same records are replayed twice', async () => {
    const writer = createWriteEventsHandler(store, noCounterFlush);
    const records = [envelope([trackedEvent({ value: 1 }), trackedEvent({ value: 2 })]), envelope([trackedEvent({ value: 3 })], { tenantId: TENANT_B })].map((item, index) =>
      toSqsRecord({ messageId: `dlq-${index}`, body: messageBody(item) }),
    );

    for (let replay = 0; replay < 3; replay++) {
      expect((await writer({ Records: records }, { awsRequestId: `replay-${replay}` })).batchItemFailures).toEqual([]);
    }

    expect(await count('SELECT count(*) AS n FROM analytics_events')).toBe(3);
    expect(await count(`SELECT sum(count) AS n FROM event_rollups WHERE granularity = 'day'`)).toBe(3);
    expect(await count(`SELECT count(*) AS n FROM audit_log WHERE action = 'EVENTS_TRACKED'`)).toBe(2);
  });
});

describe('a database that fails mid-batch', () => {
  it('rolls back, redelivers, and after recovery holds every event once with matching rollups', async () => {
    // Prepare: the first write statement succeeds, then the database fails the next five.
    const flaky = new FlakyDatabase(testDb.db);
    const writer = createWriteEventsHandler(new PgEventStore(flaky), noCounterFlush);
    const queue = await PgMessageQueue.open(testDb.db);
    const source = new QueueEventSource(queue, writer, { batchSize: 10, batchWindowMs: 5, maxReceiveCount: 20, visibilityTimeoutMs: 5 });
    source.start();
    const messages = Array.from({ length: 12 }, (_, index) =>
      envelope(Array.from({ length: 25 }, () => trackedEvent({ value: index, action: `a${index % 4}` })), { tenantId: index % 2 ? TENANT_A : TENANT_B }),
    );
    flaky.outage(1, 5);

    // Act
    await queue.enqueue(messages.map(queueMessage));
    await source.drained();
    await source.stop();

    // Assess
    expect(flaky.failuresThrown).toBe(5);
    expect((await queue.depth()).deadLetters).toBe(0);
    expect(await count('SELECT count(*) AS n FROM analytics_events')).toBe(300);
    expect(await count('SELECT count(DISTINCT event_id) AS n FROM analytics_events')).toBe(300);
    expect(await rollupMismatches(testDb.db)).toEqual([]);
  });
});
