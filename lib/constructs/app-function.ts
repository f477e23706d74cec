import { fileURLToPath } from 'node:url';
import { Duration, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Port, type ISecurityGroup, type IVpc, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { StageConfig } from '../stage-config.js';
import { WRITE_KEYS_BY_TENANT_INDEX } from '../../lambdas/shared/adapters/dynamodb/tables.js';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/config.js';
import type { ArchiveBucket } from './archive-bucket.js';
import type { DatabaseResources } from './database.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface AppFunctionProps {
  /** The module whose `handler` this function runs, from the repository root. */
  handlerModule: string;
  description: string;
  logRetention: RetentionDays;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
  /** Place the function in these subnets (functions that reach Aurora). */
  vpc?: { vpc: IVpc; subnets: SubnetSelection; securityGroups: ISecurityGroup[] };
  /** Copy `migrations/` into the bundle (the migration trigger). */
  bundleMigrations?: boolean;
  /** Instances kept for this function alone, and the most it may run at once. */
  reservedConcurrency?: number;
}

/** How every function is bundled; the bundle test builds all entry points with the same settings. */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  sourceMap: true,
  minify: true,
  // ESM bundles of CommonJS packages (pg) still call require().
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  // The runtime has the SDK's clients; its helper libraries (lib-storage) are bundled, since
  // which of them a runtime ships, and at which version, is not documented. pg-native is
  // optional; PGlite is only for local runs.
  externalModules: ['@aws-sdk/client-*', 'pg-native', '@electric-sql/pglite'],
} satisfies BundlingOptions;

/**
 * Every function of the product: Node 22 on arm64, an ESM bundle with source maps, JSON logs
 * with a retention, X-Ray. The `bind*` helpers set an environment variable and the matching
 * least-privilege grant in one call, so the two never drift apart.
 */
export class AppFunction extends NodejsFunction {
  /** The handler file the bundle is built from. */
  readonly entry: string;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const entry = `${PROJECT_ROOT}/${props.handlerModule}`;
    super(scope, id, {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
      vpc: props.vpc?.vpc,
      vpcSubnets: props.vpc?.subnets,
      securityGroups: props.vpc?.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        ...BUNDLING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) =>
            props.bundleMigrations ? [`cp -r "${inputDir}/migrations" "${outputDir}/migrations"`] : [],
        },
      },
    });
    this.entry = entry;
    const managed = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`;
    Validations.of(this).acknowledge({ id: managed('AWSLambdaBasicExecutionRole'), reason: 'The minimal AWS policy for writing the function logs.' });
    if (props.vpc) Validations.of(this).acknowledge({ id: managed('AWSLambdaVPCAccessExecutionRole'), reason: 'The minimal AWS policy for a function with network interfaces in the VPC.' });
    Validations.of(this).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray PutTraceSegments and PutTelemetryRecords accept no resource but *.' });
  }

  /** May send to the events queue, and nothing else on it (not even GetQueueAttributes). */
  bindEventsQueueSender(queue: IQueue): this {
    this.addEnvironment(ENV.eventsQueueUrl, queue.queueUrl);
    this.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    return this;
  }

  /**
   * Reaches Aurora through RDS Proxy with the cluster secret, or, in stages without the proxy,
   * the cluster itself as the IAM login (a token per connection, TLS against the RDS CA that
   * the runtime ships). `connectWaitMs`: how long a call waits for a database that is resuming.
   */
  bindDatabase(database: DatabaseResources, poolSize: number, connectWaitMs: number): this {
    this.addEnvironment(ENV.dbName, database.databaseName);
    this.addEnvironment(ENV.dbPoolSize, String(poolSize));
    this.addEnvironment(ENV.dbConnectWaitMs, String(connectWaitMs));
    const { proxy } = database;
    if (proxy) {
      this.addEnvironment(ENV.dbSecretArn, database.secret.secretArn);
      this.addEnvironment(ENV.dbHost, proxy.endpoint);
      database.secret.grantRead(this);
      proxy.connections.allowFrom(this, Port.tcp(database.port), `${this.node.id} to RDS Proxy`);
    } else {
      this.addEnvironment(ENV.dbIamUser, database.iamUser);
      this.addEnvironment(ENV.dbHost, database.cluster.clusterEndpoint.hostname);
      // Node 20+ runtimes load the runtime's extra CA bundle (which has the RDS CAs) only when told.
      this.addEnvironment('NODE_EXTRA_CA_CERTS', '/var/runtime/ca-cert.pem');
      database.cluster.grantConnect(this, database.iamUser);
    }
    return this;
  }

  /** Masks PII by the stage's rules before anything is queued; reads the hash secret if a rule hashes. */
  bindPiiPolicy(pii: StageConfig['pii'], hashSecret: ISecret | undefined): this {
    this.addEnvironment(ENV.piiDetectors, pii.detectors.join(','));
    this.addEnvironment(ENV.piiMode, pii.mode);
    this.addEnvironment(ENV.piiTenantPolicies, JSON.stringify(pii.tenants));
    if (hashSecret) {
      this.addEnvironment(ENV.piiHashSecretArn, hashSecret.secretArn);
      hashSecret.grantRead(this);
    }
    return this;
  }

  /** Takes from the tenant's rate-limit buckets in the counters table: update and read, nothing else. */
  bindRateLimiter(counters: ITableV2, limits: { requestsPerSecond: number; eventsPerSecond: number }): this {
    this.addEnvironment(ENV.countersTable, counters.tableName);
    this.addEnvironment(ENV.tenantRateLimitRps, String(limits.requestsPerSecond));
    this.addEnvironment(ENV.tenantRateLimitEvents, String(limits.eventsPerSecond));
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
        resources: [counters.tableArn],
        // The rate buckets only: not the live counters that share the table.
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['rate#*'] } },
      }),
    );
    return this;
  }

  /**
   * The live counters of the counters table (`live#...` items, not the rate buckets): the writer
   * updates them (a conditional update per counter; a read of the marks where an answer carries
   * none), the counters route queries them.
   */
  bindLiveCounters(counters: ITableV2, access: 'update' | 'read'): this {
    this.addEnvironment(ENV.countersTable, counters.tableName);
    const actions = { update: ['dynamodb:UpdateItem', 'dynamodb:GetItem'], read: ['dynamodb:Query'] };
    this.addToRolePolicy(
      new PolicyStatement({
        actions: actions[access],
        resources: [counters.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['live#*'] } },
      }),
    );
    return this;
  }

  /** What each user of the write-key table does with it: the authorizer reads, each admin route one thing. */
  bindWriteKeys(writeKeys: ITableV2, access: 'read' | 'create' | 'list' | 'revoke'): this {
    this.addEnvironment(ENV.writeKeysTable, writeKeys.tableName);
    const grants = {
      read: { actions: ['dynamodb:GetItem'], resources: [writeKeys.tableArn] },
      create: { actions: ['dynamodb:PutItem'], resources: [writeKeys.tableArn] },
      list: { actions: ['dynamodb:Query'], resources: [`${writeKeys.tableArn}/index/${WRITE_KEYS_BY_TENANT_INDEX.name}`] },
      revoke: { actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'], resources: [writeKeys.tableArn] },
    };
    this.addToRolePolicy(new PolicyStatement(grants[access]));
    return this;
  }

  /**
   * Writes, reads back and lists the archive bucket, and aborts its own failed uploads; nothing
   * else of S3. `s3:PutObject` covers every step of a multipart upload. Listing also makes S3
   * answer a missing key with 404 NoSuchKey rather than 403.
   */
  bindArchive(archive: ArchiveBucket): this {
    this.addEnvironment(ENV.archiveBucket, archive.bucket.bucketName);
    const bucketArn = Fn.importValue(archive.arnExportName);
    // A policy of its own, so that the wildcard acknowledged below is the archive's and no other.
    const access = new Policy(this, 'ArchiveAccess', {
      statements: [
        new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'], resources: [`${bucketArn}/*`] }),
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucketArn] }),
      ],
    });
    this.role?.attachInlinePolicy(access);
    Validations.of(access).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${archive.arnExportName}/*]`,
      reason: "The archive bucket's objects: keys are made per month and tenant at run time, in a bucket that holds the archive alone.",
    });
    return this;
  }

  bindSettings(settings: Partial<Record<(typeof ENV)[keyof typeof ENV], string>>): this {
    for (const [name, value] of Object.entries(settings)) if (value !== undefined) this.addEnvironment(name, value);
    return this;
  }
}
