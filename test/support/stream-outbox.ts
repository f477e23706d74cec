import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AttributeValue as StreamAttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

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
