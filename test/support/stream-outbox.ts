import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AttributeValue as StreamAttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StoredEvent } from '../../lambdas/shared/domain/answer-schemas.js';

/** A stored event as the writer reads it back, with its defaults. */
export const storedEvent = (overrides: Partial<StoredEvent> = {}): StoredEvent => ({
  eventId: crypto.randomUUID(), timestamp: '2026-01-01T00:00:00.000Z', type: 'CUSTOM', category: 'c', action: 'a', label: null, value: null,
  userId: null, sessionId: null, properties: {}, context: {}, metadata: {}, receivedAt: '2026-01-01T00:00:00.000Z', storedAt: '2026-01-01T00:00:00.100Z',
  ...overrides,
});

/** An item as a DynamoDB stream hands it to Lambda: the same attributes, binary ones in base64. */
function streamImage(item: Record<string, AttributeValue>): Record<string, StreamAttributeValue> {
  return Object.fromEntries(
    Object.entries(item).map(([name, value]) => [name, value.B ? { B: Buffer.from(value.B).toString('base64') } : (value as StreamAttributeValue)]),
  );
}

export const streamRecord = (item: Record<string, AttributeValue>, eventName: DynamoDBRecord['eventName'] = 'INSERT'): DynamoDBRecord => ({
  eventName,
  eventSource: 'aws:dynamodb',
  dynamodb: eventName === 'REMOVE' ? { OldImage: streamImage(item) } : { NewImage: streamImage(item) },
});

export const streamEvent = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
