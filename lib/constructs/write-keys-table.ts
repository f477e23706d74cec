import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { WRITE_KEYS_BY_TENANT_INDEX, WRITE_KEYS_TABLE_KEYS } from '../../lambdas/shared/adapters/dynamodb/tables.js';

/**
 * Write keys (hashes only), by key id for the authorizer, which runs outside the VPC, and by
 * tenant for the admin list. On demand, point-in-time recovery, retained: losing it would
 * lock every browser and server out.
 */
export class WriteKeysTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
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
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
