import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { COUNTERS_TABLE_KEYS, COUNTERS_TTL_ATTRIBUTE } from '../../lambdas/shared/adapters/dynamodb/tables.js';

/**
 * Real-time counters and the per-tenant rate-limit buckets: on demand, TTL (current-hour
 * counters and idle buckets need no purge job), point-in-time recovery, retained.
 */
export class CountersTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: COUNTERS_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: COUNTERS_TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      timeToLiveAttribute: COUNTERS_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
