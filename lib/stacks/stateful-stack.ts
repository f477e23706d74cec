import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ArchiveBucket } from '../constructs/archive-bucket.js';
import { CountersTable } from '../constructs/counters-table.js';
import { Database } from '../constructs/database.js';
import { EventQueue } from '../constructs/event-queue.js';
import { UserDirectory } from '../constructs/user-directory.js';
import { WriteKeysTable } from '../constructs/write-keys-table.js';
import type { StageConfig } from '../stage-config.js';

/**
 * Everything that holds data: Aurora, the queues, the counters and write-key tables, the archive bucket,
 * the user pool.
 * Deployed and retained apart from the functions, so a bad service deploy cannot touch them.
 */
export class StatefulStack extends Stack {
  readonly database: Database;
  readonly events: EventQueue;
  readonly counters: CountersTable;
  readonly writeKeys: WriteKeysTable;
  readonly archive: ArchiveBucket;
  readonly users: UserDirectory;

  constructor(scope: Construct, id: string, config: StageConfig, props?: StackProps) {
    super(scope, id, props);
    this.database = new Database(this, 'Database', config);
    this.events = new EventQueue(this, 'Events', { writerTimeout: Duration.seconds(config.writer.timeoutSeconds) });
    this.counters = new CountersTable(this, 'Counters');
    this.writeKeys = new WriteKeysTable(this, 'WriteKeys');
    this.archive = new ArchiveBucket(this, 'Archive');
    this.users = new UserDirectory(this, 'Users');

    // What docs/operations.md asks an operator to copy.
    new CfnOutput(this, 'UserPoolId', { value: this.users.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.users.client.userPoolClientId });
    new CfnOutput(this, 'EventsQueueArn', { value: this.events.queue.queueArn });
    new CfnOutput(this, 'DeadLetterQueueArn', { value: this.events.deadLetterQueue.queueArn });
    new CfnOutput(this, 'ClusterIdentifier', { value: this.database.cluster.clusterIdentifier });
  }
}
