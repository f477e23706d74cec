import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStreamConnections } from '../../../../../lambdas/shared/adapters/dynamodb/dynamo-stream-connections.js';
import { chunkJsonTexts, DynamoStreamOutbox, readOutboxRecord } from '../../../../../lambdas/shared/adapters/dynamodb/dynamo-stream-outbox.js';
import { OUTBOX_ITEM_EVENT_BYTES, streamConnectionsTableDefinition, streamOutboxTableDefinition } from '../../../../../lambdas/shared/adapters/dynamodb/tables.js';
import { startTestDynamo, type TestDynamo } from '../../../../support/embedded-dynamo.js';
import { asStored, storedRows, TENANT_A, TENANT_B, trackedEvent } from '../../../../support/factories.js';
import { streamRecord } from '../../../../support/stream-outbox.js';
import type { StreamedEventBatch } from '../../../../../lambdas/shared/ports/stored-event-publisher.js';

const CONNECTIONS = 'stream-connections-test';
const OUTBOX = 'stream-outbox-test';
const NOW = Math.floor(Date.now() / 1000);
let dynamo: TestDynamo;
let connections: DynamoStreamConnections;
let outbox: DynamoStreamOutbox;

beforeAll(async () => {
  dynamo = await startTestDynamo([streamConnectionsTableDefinition(CONNECTIONS), streamOutboxTableDefinition(OUTBOX)]);
  connections = new DynamoStreamConnections(dynamo.client, CONNECTIONS, () => NOW);
  outbox = new DynamoStreamOutbox(connections, dynamo.client, OUTBOX, () => NOW);
});
afterAll(() => dynamo.stop());

async function outboxItems(): Promise<Array<Record<string, AttributeValue>>> {
  const items: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.client.send(new ScanCommand({ TableName: OUTBOX, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => (a['itemId']?.S ?? '').localeCompare(b['itemId']?.S ?? ''));
}

/** DynamoDB's item size: names and values in bytes (a number's digits are an upper bound). */
const itemBytes = (item: Record<string, AttributeValue>) =>
  Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + (value.B?.byteLength ?? Buffer.byteLength(value.S ?? value.N ?? '')), 0);

describe('DynamoStreamOutbox (dynalite)', () => {
  it('names the tenants with an open connection, and not those whose rows expired', async () => {
    await connections.add({ tenantId: TENANT_A, connectionId: 'a1', filter: {}, connectedAt: new Date().toISOString() });
    const expired = new DynamoStreamConnections(dynamo.client, CONNECTIONS, () => NOW - 3 * 3600);
    await expired.add({ tenantId: TENANT_B, connectionId: 'b-old', filter: {}, connectedAt: new Date().toISOString() });

    expect([...(await outbox.subscribedTenants([TENANT_A, TENANT_B]))]).toEqual([TENANT_A]);
  });

  it("puts each tenant's events in items under 400 KB, in order, which the stream hands back whole", async () => {
    const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString();
    const many = Array.from({ length: 60 }, (_, index) => trackedEvent({ timestamp: at(index), properties: { index, padding: 'é'.repeat(10_000) } }));
    const few = [trackedEvent({ type: 'ERROR' })];
    const storedAt = at(100);

    await outbox.publish([storedRows(TENANT_A, many, storedAt), storedRows(TENANT_B, few, storedAt)]);

    const items = await outboxItems();
    const ofA = items.filter((item) => item['tenantId']?.S === TENANT_A);
    // 60 events of about 20 KB each: 1.2 MB in several items.
    expect(ofA.length).toBeGreaterThanOrEqual(4);
    for (const item of items) expect(itemBytes(item)).toBeLessThan(400 * 1024);
    for (const item of items) expect(item['expiresAt']?.N).toBe(String(NOW + 600));
    const read = ofA.map((item) => readOutboxRecord(streamRecord(item)));
    const parsed = (batch: StreamedEventBatch | undefined) => (batch?.events ?? []).map((event) => JSON.parse(event.json) as unknown);
    expect(read.every((batch) => batch?.tenantId === TENANT_A)).toBe(true);
    expect(read.flatMap(parsed)).toEqual(many.map((event) => asStored(event, storedAt)));
    const ofB = items.filter((item) => item['tenantId']?.S === TENANT_B).map((item) => readOutboxRecord(streamRecord(item)));
    expect(ofB.map((batch) => batch?.tenantId)).toEqual([TENANT_B]);
    expect(ofB.flatMap(parsed)).toEqual(few.map((event) => asStored(event, storedAt)));
  });

  it('reads only new items from the stream, and skips one it cannot read', () => {
    const item = { tenantId: { S: TENANT_A }, itemId: { S: 'x#0000' }, events: { B: Buffer.from('[{"eventId":') } };
    expect(readOutboxRecord(streamRecord(item))).toBeUndefined();
    expect(readOutboxRecord(streamRecord({ ...item, events: { B: Buffer.from('[]') } }, 'REMOVE'))).toBeUndefined();
  });
});

describe('chunkJsonTexts', () => {
  it('fills each JSON array up to the bound, and gives a text over it an array of its own', () => {
    const chunks = chunkJsonTexts(['"aaaa"', '"bbbb"', '"c"', `"${'x'.repeat(20)}"`, '"d"'], 16);
    expect(chunks).toEqual([['"aaaa"', '"bbbb"'], ['"c"'], [`"${'x'.repeat(20)}"`], ['"d"']]);
    for (const chunk of chunks.filter((texts) => texts.length > 1)) expect(Buffer.byteLength(`[${chunk.join(',')}]`)).toBeLessThanOrEqual(16);
    expect(OUTBOX_ITEM_EVENT_BYTES * (4 / 3)).toBeLessThanOrEqual(400 * 1024);
  });
});
