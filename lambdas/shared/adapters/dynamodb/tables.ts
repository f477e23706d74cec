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

/** The WebSocket API's open connections: one tenant's in one partition, which the writer queries. */
export const STREAM_CONNECTIONS_TABLE_KEYS = { partitionKey: 'tenantId', sortKey: 'connectionId' } as const;
/** API Gateway ends a WebSocket after 2 hours; a row whose `$disconnect` was lost expires after it. */
export const STREAM_CONNECTIONS_TTL_ATTRIBUTE = 'expiresAt';

/** String keys only: the attribute definitions and the key schema of a table or an index. */
const stringKeys = (keys: { partitionKey: string; sortKey?: string }) => ({
  attributes: [keys.partitionKey, ...(keys.sortKey ? [keys.sortKey] : [])].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
  schema: [{ AttributeName: keys.partitionKey, KeyType: 'HASH' as const }, ...(keys.sortKey ? [{ AttributeName: keys.sortKey, KeyType: 'RANGE' as const }] : [])],
});

export function countersTableDefinition(tableName: string): CreateTableCommandInput {
  const keys = stringKeys(COUNTERS_TABLE_KEYS);
  return { TableName: tableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: keys.attributes, KeySchema: keys.schema };
}

export function writeKeysTableDefinition(tableName: string): CreateTableCommandInput {
  const keys = stringKeys(WRITE_KEYS_TABLE_KEYS);
  const byTenant = stringKeys(WRITE_KEYS_BY_TENANT_INDEX);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...keys.attributes, ...byTenant.attributes],
    KeySchema: keys.schema,
    GlobalSecondaryIndexes: [
      {
        IndexName: WRITE_KEYS_BY_TENANT_INDEX.name,
        KeySchema: byTenant.schema,
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...WRITE_KEYS_BY_TENANT_INDEX.projected] },
      },
    ],
  };
}

export function streamConnectionsTableDefinition(tableName: string): CreateTableCommandInput {
  const keys = stringKeys(STREAM_CONNECTIONS_TABLE_KEYS);
  return { TableName: tableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: keys.attributes, KeySchema: keys.schema };
}

/**
 * The writer's hand-off to the fan-out function: a tenant's items in one partition, so that
 * the table's stream (and the fan-out's event source, which keeps a partition key's order)
 * delivers them in the order written. Items expire within minutes; the stream carries them.
 */
export const STREAM_OUTBOX_TABLE_KEYS = { partitionKey: 'tenantId', sortKey: 'itemId' } as const;
export const STREAM_OUTBOX_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The events' bytes per outbox item. DynamoDB refuses items over 400 KB; and the fan-out's
 * event source passes them base64 in its payload (4/3 of this, 400 KB a record), so a batch of
 * `OUTBOX_BATCH_SIZE` records stays under Lambda's 6 MB.
 */
export const OUTBOX_ITEM_EVENT_BYTES = 300 * 1024;
/** Records per fan-out invocation: 10 x 400 KB of base64 is 4 MB, under Lambda's 6 MB. */
export const OUTBOX_BATCH_SIZE = 10;

export function streamOutboxTableDefinition(tableName: string): CreateTableCommandInput {
  const keys = stringKeys(STREAM_OUTBOX_TABLE_KEYS);
  return { TableName: tableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: keys.attributes, KeySchema: keys.schema };
}
