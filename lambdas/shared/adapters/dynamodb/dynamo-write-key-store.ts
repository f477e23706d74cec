import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { WriteKeyListing, WriteKeyRecord } from '../../domain/write-keys.js';
import type { WriteKeyStore } from '../../ports/write-key-store.js';
import { WRITE_KEYS_BY_TENANT_INDEX } from './tables.js';

type Item = Record<string, AttributeValue>;

function toItem(record: WriteKeyRecord): Item {
  const item: Item = {};
  for (const [name, value] of Object.entries(record)) if (typeof value === 'string') item[name] = { S: value };
  return item;
}

function text(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw new Error(`Write key item without ${name}.`);
  return value;
}

function listingFromItem(item: Item): WriteKeyListing {
  const revokedAt = item['revokedAt']?.S;
  return {
    keyId: text(item, 'keyId'),
    tenantId: text(item, 'tenantId'),
    name: text(item, 'name'),
    createdAt: text(item, 'createdAt'),
    createdBy: text(item, 'createdBy'),
    ...(revokedAt ? { revokedAt, revokedBy: item['revokedBy']?.S } : {}),
  };
}

function fromItem(item: Item): WriteKeyRecord {
  return { ...listingFromItem(item), keyHash: text(item, 'keyHash') };
}

/** Write keys in their own table: key id as the partition key, a tenant index for lists. */
export class DynamoWriteKeyStore implements WriteKeyStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async create(record: WriteKeyRecord): Promise<void> {
    // 64 random bits make a clash unlikely; the condition turns one into a failed request, never an overwrite.
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: toItem(record), ConditionExpression: 'attribute_not_exists(keyId)' }));
  }

  async find(keyId: string): Promise<WriteKeyRecord | undefined> {
    // Strongly consistent: a key revoked a moment ago must not pass at the next cache miss.
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { keyId: { S: keyId } }, ConsistentRead: true }));
    return Item ? fromItem(Item) : undefined;
  }

  async list(tenantId: string): Promise<WriteKeyListing[]> {
    const records: WriteKeyListing[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: WRITE_KEYS_BY_TENANT_INDEX.name,
          KeyConditionExpression: '#tenant = :tenant',
          ExpressionAttributeNames: { '#tenant': WRITE_KEYS_BY_TENANT_INDEX.partitionKey },
          ExpressionAttributeValues: { ':tenant': { S: tenantId } },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
        }),
      );
      records.push(...(page.Items ?? []).map(listingFromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  async revoke(tenantId: string, keyId: string, revokedAt: string, revokedBy: string): Promise<WriteKeyRecord | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { keyId: { S: keyId } },
          UpdateExpression: 'SET revokedAt = :at, revokedBy = :by',
          // The tenant is part of the condition: another tenant's key id is simply not found.
          ConditionExpression: 'tenantId = :tenant AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':at': { S: revokedAt }, ':by': { S: revokedBy }, ':tenant': { S: tenantId } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? fromItem(Attributes) : undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Revoked before: answer with the first revocation, if the key is the tenant's.
      const existing = await this.find(keyId);
      return existing?.tenantId === tenantId ? existing : undefined;
    }
  }
}
