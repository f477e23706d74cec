import { randomUUID } from 'node:crypto';
import { PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { StoredEvent } from '../../domain/answer-schemas.js';
import { describeError, log } from '../../logger.js';
import { streamedEventOf, streamedEventsOfRows } from '../../domain/streamed-events.js';
import type { StoredEventBatch, StoredEventPublisher, StreamedEventBatch } from '../../ports/stored-event-publisher.js';
import type { StreamConnections } from '../../ports/stream-connections.js';
import { OUTBOX_ITEM_EVENT_BYTES, STREAM_OUTBOX_TTL_ATTRIBUTE } from './tables.js';

/** The stream carries an item within a second or so; the row itself only has to exist. */
const OUTBOX_TTL_SECONDS = 10 * 60;

/** Runs of JSON texts whose array `[a,b,...]` is at most `maxBytes`; one text over it is a run of its own. */
export function chunkJsonTexts(texts: readonly string[], maxBytes = OUTBOX_ITEM_EVENT_BYTES): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  // The brackets, then a comma before every text but the first.
  let size = 2;
  for (const text of texts) {
    const bytes = Buffer.byteLength(text);
    if (chunk.length > 0 && size + 1 + bytes > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      size = 2;
    }
    size += bytes + (chunk.length > 0 ? 1 : 0);
    chunk.push(text);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The outbox items of one tenant's stored events: the events as UTF-8 JSON, in order, in chunks. */
export function outboxItems(batch: StreamedEventBatch, nowSeconds: number): Array<Record<string, AttributeValue>> {
  const deliveryId = randomUUID();
  return chunkJsonTexts(batch.events.map((event) => event.json)).map((chunk, index) => ({
    tenantId: { S: batch.tenantId },
    itemId: { S: `${deliveryId}#${String(index).padStart(4, '0')}` },
    events: { B: Buffer.from(`[${chunk.join(',')}]`) },
    [STREAM_OUTBOX_TTL_ATTRIBUTE]: { N: String(nowSeconds + OUTBOX_TTL_SECONDS) },
  }));
}

/**
 * The events of one outbox item as its table's stream hands it to the fan-out function (a new
 * image, binary attributes in base64); undefined for a record that is not a new outbox item.
 */
export function readOutboxRecord(record: DynamoDBRecord): StreamedEventBatch | undefined {
  const image = record.dynamodb?.NewImage;
  const tenantId = image?.['tenantId']?.S;
  const events = image?.['events']?.B;
  if (record.eventName !== 'INSERT' || !tenantId || typeof events !== 'string') return undefined;
  try {
    return { tenantId, events: (JSON.parse(Buffer.from(events, 'base64').toString('utf8')) as StoredEvent[]).map(streamedEventOf) };
  } catch (error) {
    log('warn', 'stream outbox record not readable; skipped', { tenantId, ...describeError(error) });
    return undefined;
  }
}

/**
 * The writer's side of the deployed stream. The writer is in the VPC, which has no NAT, and
 * API Gateway's management endpoint is public only: so it does not post, it puts the stored
 * events of tenants with a connection into a small table (reached through the free DynamoDB
 * gateway endpoint), whose stream runs the fan-out function outside the VPC.
 */
export class DynamoStreamOutbox implements StoredEventPublisher {
  constructor(
    private readonly connections: Pick<StreamConnections, 'ofTenant'>,
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async subscribedTenants(tenantIds: readonly string[]): Promise<ReadonlySet<string>> {
    const found = await Promise.all(tenantIds.map(async (tenantId) => [tenantId, (await this.connections.ofTenant(tenantId)).length > 0] as const));
    return new Set(found.filter(([, subscribed]) => subscribed).map(([tenantId]) => tenantId));
  }

  /** Tenants in parallel; one tenant's chunks one after another, so that its stream keeps their order. */
  async publish(batches: readonly StoredEventBatch[]): Promise<void> {
    const now = this.nowSeconds();
    await Promise.all(
      batches.map(async ({ tenantId, rows, storedAt, notNew }) => {
        const events = streamedEventsOfRows(rows, storedAt, new Set(notNew));
        for (const item of outboxItems({ tenantId, events }, now)) await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
      }),
    );
  }
}
