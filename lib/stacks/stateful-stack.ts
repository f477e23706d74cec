import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { GatewayVpcEndpointAwsService } from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ArchiveBucket } from '../constructs/archive-bucket.js';
import { COUNTERS_TABLE, RetainedTable, WRITE_KEYS_TABLE } from '../constructs/dynamo-tables.js';
import { Database } from '../constructs/database.js';
import { EventQueue } from '../constructs/event-queue.js';
import { UserDirectory } from '../constructs/user-directory.js';
import type { StageConfig } from '../stage-config.js';

/**
 * Everything that holds data: Aurora, the queues, the counters and write-key tables, the archive bucket,
 * the user pool.
 * Deployed and retained apart from the functions, so a bad service deploy cannot touch them.
 */
export class StatefulStack extends Stack {
  readonly database: Database;
  readonly events: EventQueue;
  readonly counters: RetainedTable;
  readonly writeKeys: RetainedTable;
  readonly archive: ArchiveBucket;
  readonly users: UserDirectory;
  /** Keys the PII hashes; only when a rule of the stage says hash. */
  readonly piiHashSecret?: Secret;

  constructor(scope: Construct, id: string, config: StageConfig, props?: StackProps) {
    super(scope, id, props);
    this.database = new Database(this, 'Database', config);
    this.events = new EventQueue(this, 'Events', { writerTimeout: Duration.seconds(config.writer.timeoutSeconds) });
    this.counters = new RetainedTable(this, 'Counters', COUNTERS_TABLE);
    this.writeKeys = new RetainedTable(this, 'WriteKeys', WRITE_KEYS_TABLE);
    this.archive = new ArchiveBucket(this, 'Archive');
    // The maintenance function archives from inside the VPC, which has no NAT: a gateway endpoint
    // (free), through which only the archive bucket can be reached.
    this.database.vpc
      .addGatewayEndpoint('ArchiveEndpoint', { service: GatewayVpcEndpointAwsService.S3, subnets: [this.database.subnets] })
      .addToPolicy(
        new PolicyStatement({
          principals: [new AnyPrincipal()],
          actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListBucket'],
          resources: [this.archive.bucket.bucketArn, this.archive.bucket.arnForObjects('*')],
        }),
      );
    this.users = new UserDirectory(this, 'Users', { stage: config.stage });
    if ([config.pii, ...Object.values(config.pii.tenants)].some((rule) => rule.mode === 'hash')) {
      this.piiHashSecret = new Secret(this, 'PiiHashSecret', {
        description: 'Keys the per-tenant PII hashes; a new value changes every token from then on',
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        // Retained: a lost secret would split each address into two tokens, before and after.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(this.piiHashSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'Rotating the PII hash key would change every token and break counts across the change; operators rotate it deliberately (docs/security.md).',
      });
    }

    // What docs/operations.md asks an operator to copy.
    new CfnOutput(this, 'UserPoolId', { value: this.users.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.users.client.userPoolClientId });
    new CfnOutput(this, 'EventsQueueArn', { value: this.events.queue.queueArn });
    new CfnOutput(this, 'DeadLetterQueueArn', { value: this.events.deadLetterQueue.queueArn });
    new CfnOutput(this, 'ClusterIdentifier', { value: this.database.cluster.clusterIdentifier });
    new CfnOutput(this, 'ArchiveBucketName', { value: this.archive.bucket.bucketName });
  }
}
