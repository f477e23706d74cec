import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * Cold storage for expired event partitions (gzip JSON lines plus a manifest): encrypted, no
 * public access, TLS only, versioned so an archive cannot be silently overwritten, and moved
 * to Glacier once nobody reads it any more.
 */
export class ArchiveBucket extends Construct {
  readonly bucket: Bucket;
  /**
   * The export of the bucket's ARN, under a name of our own rather than a generated one: a grant
   * on the bucket's objects is a wildcard, and cdk-nag acknowledges a wildcard by its exact text.
   */
  readonly arnExportName: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This bucket receives the access logs of the archive bucket; logging it again would loop.' });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        { transitions: [{ storageClass: StorageClass.GLACIER, transitionAfter: Duration.days(30) }] },
        // A maintenance run cut off by its timeout cannot abort its upload; its parts would be billed forever.
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.arnExportName = `${Stack.of(this).stackName}-ArchiveBucketArn`;
    Stack.of(this).exportValue(this.bucket.bucketArn, { name: this.arnExportName });
  }
}
