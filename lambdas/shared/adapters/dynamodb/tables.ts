import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * Key schemas of the DynamoDB tables, in one place: the CDK constructs build the tables from
 * them, and the same tables are created in dynalite (write keys by the local runtime, both by
 * the adapter tests).
 */
export const COUNTERS_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
/** The attribute DynamoDB TTL reads (epoch seconds). */
export const COUNTERS_TTL_ATTRIBUTE = 'expiresAt';

export const WRITE_KEYS_TABLE_KEYS = { partitionKey: 'keyId' } as const;
/** Lists one tenant's keys, newest first, without a scan; the hashes stay out of it. */
export const WRITE_KEYS_BY_TENANT_INDEX = {
  name: 'byTenant',
  partitionKey: 'tenantId',
  sortKey: 'createdAt',
  projected: ['name', 'createdBy', 'revokedAt', 'revokedBy'],
} as const;

export function countersTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: COUNTERS_TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: COUNTERS_TABLE_KEYS.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: COUNTERS_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: COUNTERS_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
  };
}

export function writeKeysTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: WRITE_KEYS_TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: WRITE_KEYS_BY_TENANT_INDEX.partitionKey, AttributeType: 'S' },
      { AttributeName: WRITE_KEYS_BY_TENANT_INDEX.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: WRITE_KEYS_TABLE_KEYS.partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: WRITE_KEYS_BY_TENANT_INDEX.name,
        KeySchema: [
          { AttributeName: WRITE_KEYS_BY_TENANT_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: WRITE_KEYS_BY_TENANT_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...WRITE_KEYS_BY_TENANT_INDEX.projected] },
      },
    ],
  };
}
