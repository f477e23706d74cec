import { describe, expect, it, vi } from 'vitest';
import { DatabaseUnavailableError } from '../../../../lambdas/shared/domain/errors.js';
import type { ReceivedMessage } from '../../../../lambdas/shared/domain/queue-messages.js';
import type { EventStore } from '../../../../lambdas/shared/ports/event-store.js';
import type { StoredEventBatch, StoredEventPublisher } from '../../../../lambdas/shared/ports/stored-event-publisher.js';
import { PUBLISH_DEADLINE_MS, SUBSCRIBER_LOOKUP_MS, writeQueuedEvents } from '../../../../lambdas/shared/use-cases/write-queued-events.js';
import { envelope, messageBody, TENANT_A, TENANT_B, trackedEvent, type TestEnvelope } from '../../../support/factories.js';

/** A store that refuses any write containing a request id listed as rejected. */
function storeRejecting(rejected: string[] = []): EventStore & { writes: ReceivedMessage[][] } {
  const writes: ReceivedMessage[][] = [];
  return {
    writes,
    async writeMessages(batch) {
      writes.push(batch);
      if (batch.some(({ header }) => rejected.includes(header.requestId))) throw new Error('value out of range');
      return { stored: batch.reduce((sum, { rows }) => sum + rows.split('\n').length - 1, 0), duplicates: 0, storedEvents: [] };
    },
    findEvent: async () => undefined,
  };
}

const record = (messageId: string, body: TestEnvelope | string) => ({ messageId, body: typeof body === 'string' ? body : messageBody(body) });

describe('writeQueuedEvents', () => {
  it('writes all valid records in one call', async () => {
    const store = storeRejecting();

    const outcome = await writeQueuedEvents(store, [record('m1', envelope([trackedEvent()])), record('m2', envelope([trackedEvent(), trackedEvent()]))]);

    expect(store.writes).toHaveLength(1);
    expect(outcome).toEqual({ failed: [], stored: 3, duplicates: 0 });
  });

  it('fails a record that is not a message and still writes the others', async () => {
    const store = storeRejecting();
    const good = messageBody(envelope([trackedEvent()]));
    const [headerLine = '', rows = ''] = good.split(/\n(.*)/s);
    const header = JSON.parse(headerLine) as Record<string, unknown>;

    const outcome = await writeQueuedEvents(store, [
      record('no-header', rows),
      record('bad-json', `{oops\n${rows}`),
      record('old-format', JSON.stringify({ version: 1, ...header, events: [] })),
      record('bad-tenant', `${JSON.stringify({ ...header, tenantId: 'everyone' })}\n${rows}`),
      record('no-months', `${JSON.stringify({ ...header, months: [] })}\n${rows}`),
      record('no-rows', `${headerLine}\n`),
      record('cut-off', good.slice(0, -5)),
      record('good', good),
    ]);

    expect(outcome.failed).toEqual([
      { messageId: 'no-header', reason: 'header line is not JSON' },
      { messageId: 'bad-json', reason: 'header line is not JSON' },
      { messageId: 'old-format', reason: 'not a queue message: expected a header line, then event rows' },
      { messageId: 'bad-tenant', reason: expect.stringContaining('tenantId') },
      { messageId: 'no-months', reason: expect.stringContaining('months') },
      { messageId: 'no-rows', reason: 'event rows missing or cut off' },
      { messageId: 'cut-off', reason: 'event rows missing or cut off' },
    ]);
    expect(outcome.stored).toBe(1);
  });

  it('isolates a record the database rejects by writing record by record', async () => {
    const store = storeRejecting(['poison']);

    const outcome = await writeQueuedEvents(store, [
      record('m1', envelope([trackedEvent()], { requestId: 'fine-1' })),
      record('m2', envelope([trackedEvent()], { requestId: 'poison' })),
      record('m3', envelope([trackedEvent()], { requestId: 'fine-2' })),
    ]);

    expect(outcome.failed).toEqual([{ messageId: 'm2', reason: 'value out of range' }]);
    expect(outcome.stored).toBe(2);
  });

  it('fails every record when the database is down', async () => {
    const store = storeRejecting(['a', 'b']);

    const outcome = await writeQueuedEvents(store, [record('m1', envelope([trackedEvent()], { requestId: 'a' })), record('m2', envelope([trackedEvent()], { requestId: 'b' }))]);

    expect(outcome.failed.map((failure) => failure.messageId)).toEqual(['m1', 'm2']);
    expect(outcome.stored).toBe(0);
  });

  it('fails every record at once when the database cannot be reached, without waiting for it once per record', async () => {
    const writes: ReceivedMessage[][] = [];
    const paused: EventStore = {
      async writeMessages(batch) {
        writes.push(batch);
        throw new DatabaseUnavailableError(10, 'resuming');
      },
      findEvent: async () => undefined,
    };

    const outcome = await writeQueuedEvents(paused, [record('m1', envelope([trackedEvent()])), record('m2', envelope([trackedEvent()])), record('m3', envelope([trackedEvent()]))]);

    expect(outcome.failed).toEqual(['m1', 'm2', 'm3'].map((messageId) => ({ messageId, reason: 'resuming' })));
    expect(outcome.databaseUnreachable).toBe(true);
    expect(writes).toHaveLength(1);
  });
});

/** A store that hands back, for the tenants asked, the rows of each message as stored. */
function rowsKeepingStore(): EventStore & { asked: Array<ReadonlySet<string> | undefined> } {
  const asked: Array<ReadonlySet<string> | undefined> = [];
  return {
    asked,
    async writeMessages(batch, options) {
      asked.push(options?.returnEventsOf);
      const storedEvents: StoredEventBatch[] = batch
        .filter(({ header }) => options?.returnEventsOf?.has(header.tenantId))
        .map(({ header, rows }) => ({ tenantId: header.tenantId, rows, storedAt: new Date().toISOString(), notNew: [] }));
      return { stored: batch.length, duplicates: 0, storedEvents };
    },
    findEvent: async () => undefined,
  };
}

describe('writeQueuedEvents and the live stream', () => {
  const twoTenants = () => [record('m1', envelope([trackedEvent()], { tenantId: TENANT_A })), record('m2', envelope([trackedEvent()], { tenantId: TENANT_B }))];

  it('keeps the rows of the subscribed tenants only and publishes what was stored, after the write', async () => {
    const store = rowsKeepingStore();
    const published: StoredEventBatch[][] = [];
    const publisher: StoredEventPublisher = {
      subscribedTenants: async (tenants) => new Set(tenants.filter((tenant) => tenant === TENANT_B)),
      publish: async (batches) => void published.push([...batches]),
    };

    const outcome = await writeQueuedEvents(store, twoTenants(), publisher);

    expect(outcome.stored).toBe(2);
    expect([...(store.asked[0] ?? [])]).toEqual([TENANT_B]);
    expect(published).toHaveLength(1);
    expect(published[0]?.map((batch) => batch.tenantId)).toEqual([TENANT_B]);
  });

  it('publishes nothing when no tenant of the delivery is subscribed', async () => {
    const publish = vi.fn(async () => undefined);
    await writeQueuedEvents(rowsKeepingStore(), twoTenants(), { subscribedTenants: async () => new Set(), publish });
    expect(publish).not.toHaveBeenCalled();
  });

  it('writes and succeeds when the subscriber lookup or the publish fails', async () => {
    const store = rowsKeepingStore();
    const failingLookup: StoredEventPublisher = { subscribedTenants: async () => Promise.reject(new Error('table gone')), publish: async () => undefined };
    expect(await writeQueuedEvents(store, twoTenants(), failingLookup)).toEqual({ failed: [], stored: 2, duplicates: 0 });

    const failingPublish: StoredEventPublisher = { subscribedTenants: async (tenants) => new Set(tenants), publish: async () => Promise.reject(new Error('endpoint down')) };
    expect(await writeQueuedEvents(store, twoTenants(), failingPublish)).toEqual({ failed: [], stored: 2, duplicates: 0 });
  });

  it('waits a bounded time for a lookup or a publish that hangs', async () => {
    vi.useFakeTimers();
    try {
      const hangingLookup: StoredEventPublisher = { subscribedTenants: () => new Promise(() => undefined), publish: async () => undefined };
      const looked = writeQueuedEvents(rowsKeepingStore(), twoTenants(), hangingLookup);
      await vi.advanceTimersByTimeAsync(SUBSCRIBER_LOOKUP_MS);
      expect(await looked).toEqual({ failed: [], stored: 2, duplicates: 0 });

      const hangingPublish: StoredEventPublisher = { subscribedTenants: async (tenants) => new Set(tenants), publish: () => new Promise(() => undefined) };
      const published = writeQueuedEvents(rowsKeepingStore(), twoTenants(), hangingPublish);
      await vi.advanceTimersByTimeAsync(PUBLISH_DEADLINE_MS);
      expect(await published).toEqual({ failed: [], stored: 2, duplicates: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});
