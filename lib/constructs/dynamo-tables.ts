import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2, type TablePropsV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { COUNTERS_TABLE_KEYS, COUNTERS_TTL_ATTRIBUTE, WRITE_KEYS_BY_TENANT_INDEX, WRITE_KEYS_TABLE_KEYS } from '../../lambdas/shared/adapters/dynamodb/tables.js';

type TableShape = Omit<TablePropsV2, 'billing' | 'encryption' | 'pointInTimeRecoverySpecification' | 'removalPolicy'>;

/** A table of the product: paid per request, encrypted, point-in-time recovery, kept when the stack goes. */
export class RetainedTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string, shape: TableShape) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      ...shape,
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/** Real-time counters and the per-tenant rate-limit buckets; TTL, so current-hour counters and idle buckets need no purge job. */
export const COUNTERS_TABLE: TableShape = {
  partitionKey: { name: COUNTERS_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
  sortKey: { name: COUNTERS_TABLE_KEYS.sortKey, type: AttributeType.STRING },
  timeToLiveAttribute: COUNTERS_TTL_ATTRIBUTE,
};

/**
 * Write keys (hashes only), by key id for the authorizer, which runs outside the VPC, and by
 * tenant for the admin list. Losing it would lock every browser and server out.
 */
export const WRITE_KEYS_TABLE: TableShape = {
  partitionKey: { name: WRITE_KEYS_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
  globalSecondaryIndexes: [
    {
      indexName: WRITE_KEYS_BY_TENANT_INDEX.name,
      partitionKey: { name: WRITE_KEYS_BY_TENANT_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: WRITE_KEYS_BY_TENANT_INDEX.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...WRITE_KEYS_BY_TENANT_INDEX.projected],
    },
  ],
};
