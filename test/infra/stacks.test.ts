import { Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/routes.js';
import { routePaths } from '../../lambdas/shared/adapters/http/route-spec.js';
import { SEGMENT_PATHS } from '../../lambdas/shared/domain/segment-messages.js';
import { buildStacks } from '../../lib/build-app.js';
import { EventTypeEnum } from '../../lambdas/shared/domain/event-schemas.js';
import { MAX_RECEIVE_COUNT } from '../../lib/constructs/event-queue.js';
import { ALARM } from '../../lib/constructs/observability.js';
import { METRIC } from '../../lambdas/shared/metrics.js';
import { CONNECT_WAIT_MS, writerConnectWaitMs } from '../../lib/stacks/service-stack.js';
import { RESUME_SECONDS } from '../../lambdas/shared/adapters/pg/sql-database.js';
import { actionsOf, alarmProperties, dashboardWidgets, functionId, newTestApp, stageConfig, statementsOf, synthesize } from './support.js';

const API_ROUTES = Object.values(ROUTES);

const dev = stageConfig('dev');
let stateful: Template;
let service: Template;

beforeAll(() => {
  // Placeholder assets: the template is the same without bundles, and bundles.test.ts builds them.
  ({ stateful, service } = synthesize(dev));
}, 10 * 60_000); // seconds when idle (most of it loading aws-cdk-lib); the bound only stops a hang

const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
/** The events queue (not its DLQ) as an SQS metric dimension, across the stack boundary. */
const eventsQueue = { Name: 'QueueName', Value: { 'Fn::ImportValue': expect.stringMatching(/EventsQueue[0-9A-F]+QueueName/) } };
const RATE_BUCKETS = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
const LIVE_COUNTER_UPDATES = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
const STREAM_OUTBOX_WRITES = ['dynamodb:PutItem', 'dynamodb:Query'];
const ARCHIVE = ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListBucket', 's3:PutObject'];

describe('functions', () => {
  it('run Node 22 on arm64 with source maps', () => {
    // Not CDK's BucketDeployment provider (Python), which uploads the dashboard's files.
    const functions = Object.entries(service.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }))
      .filter(([id]) => !id.startsWith('CustomCDKBucketDeployment'))
      .map(([, fn]) => fn);
    expect(functions.length).toBeGreaterThanOrEqual(8);
    for (const fn of functions) {
      expect(fn['Properties']).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } } });
    }
  });

  it("lets the ingest functions only send to the events queue and take from their tenant's rate buckets, from outside the VPC", () => {
    for (const prefix of ['TrackEventFunction', 'TrackBatchFunction']) {
      const id = functionId(service, prefix);
      expect(actionsOf(service, id)).toEqual([...RATE_BUCKETS, 'sqs:SendMessage', ...XRAY]);
      expect(service.findResources('AWS::Lambda::Function')[id]?.['Properties']).not.toHaveProperty('VpcConfig');
    }
  });

  it('gives the functions that reach Aurora their IAM login (dev: no proxy) and a place in the VPC', () => {
    const login = ['rds-db:connect'];
    const consume = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];
    const expected: Record<string, string[]> = {
      // Only the writer consumes the queue (its event source); nothing else touches it. It also
      // updates the live counters and hands stored events to the stream's outbox (below).
      WriteEventsFunction: [...[...LIVE_COUNTER_UPDATES, ...STREAM_OUTBOX_WRITES].sort(), ...login, ...consume, ...XRAY],
      // The HTTP functions also take from their tenant's rate buckets (through the gateway endpoint).
      GetEventFunction: [...RATE_BUCKETS, ...login, ...XRAY],
      QueryEventsFunction: [...RATE_BUCKETS, ...login, ...XRAY],
      AggregateEventsFunction: [...RATE_BUCKETS, ...login, ...XRAY],
      ListEventTypesFunction: [...RATE_BUCKETS, ...login, ...XRAY],
      PurgeEventsFunction: [...RATE_BUCKETS, ...login, ...XRAY],
      ListAuditFunction: [...RATE_BUCKETS, ...login, ...XRAY],
      MigrateDatabaseFunction: [...login, ...XRAY],
      // The maintenance job also archives expired partitions (below).
      MaintainPartitionsFunction: [...ARCHIVE, ...login, ...XRAY],
      // The live stream's resume reads Aurora and nothing else (below).
      ReadStreamReplayFunction: [...login, ...XRAY],
    };
    for (const [prefix, actions] of Object.entries(expected)) {
      const id = functionId(service, prefix);
      expect(actionsOf(service, id)).toEqual([...actions].sort());
      expect(service.findResources('AWS::Lambda::Function')[id]?.['Properties']).toHaveProperty('VpcConfig');
    }
  });

  it('lets the authorizer only read write keys, and gives the health check nothing beyond tracing', () => {
    expect(actionsOf(service, functionId(service, 'AuthorizeFunction'))).toEqual(['dynamodb:GetItem', ...XRAY]);
    expect(actionsOf(service, functionId(service, 'HealthFunction'))).toEqual(XRAY);
    expect(actionsOf(service, functionId(service, 'GetOpenapiFunction'))).toEqual(XRAY);
  });
});

describe('live counters', () => {
  const liveGrants = (prefix: string) =>
    statementsOf(service, functionId(service, prefix)).filter((statement) => JSON.stringify(statement.Condition ?? {}).includes('live#'));

  it('lets the writer update the live counters of the counters table and nothing else of it', () => {
    const [grant, ...others] = liveGrants('WriteEventsFunction');
    expect(others).toEqual([]);
    expect([grant?.Action].flat().sort()).toEqual(LIVE_COUNTER_UPDATES);
    expect(grant?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['live#*'] } });
    expect(JSON.stringify(grant?.Resource)).toContain('Counters');
  });

  it('lets the counters route query the live counters, from outside the VPC, besides its rate buckets', () => {
    const id = functionId(service, 'GetLiveCountersFunction');
    expect(actionsOf(service, id)).toEqual([...RATE_BUCKETS, 'dynamodb:Query', ...XRAY].sort());
    const [grant] = liveGrants('GetLiveCountersFunction');
    expect(grant?.Action).toBe('dynamodb:Query');
    expect(grant?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['live#*'] } });
    expect(service.findResources('AWS::Lambda::Function')[id]?.['Properties']).not.toHaveProperty('VpcConfig');
  });

  it('alarms when the writer fails to flush the live counters for 15 minutes', () => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.liveCounterFlushFailed,
      Threshold: 0,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});

describe('write keys and rate limits', () => {
  it('lets each key function do its one thing with write keys, from outside the VPC, and nothing of the events', () => {
    const expected: Record<string, string[]> = {
      CreateWriteKeyFunction: ['dynamodb:PutItem'],
      ListWriteKeysFunction: ['dynamodb:Query'],
      RevokeWriteKeyFunction: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    };
    for (const [prefix, keyActions] of Object.entries(expected)) {
      const id = functionId(service, prefix);
      expect(actionsOf(service, id)).toEqual([...RATE_BUCKETS, ...keyActions, ...XRAY].sort());
      expect(service.findResources('AWS::Lambda::Function')[id]?.['Properties']).not.toHaveProperty('VpcConfig');
    }
    const listing = statementsOf(service, functionId(service, 'ListWriteKeysFunction')).find((statement) => statement.Action === 'dynamodb:Query');
    expect(JSON.stringify(listing?.Resource)).toContain('/index/byTenant');
  });

  it('limits every rate-bucket grant to the rate items of the counters table', () => {
    for (const prefix of ['TrackBatchFunction', 'QueryEventsFunction', 'CreateWriteKeyFunction', 'PurgeEventsFunction']) {
      const buckets = statementsOf(service, functionId(service, prefix)).filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:UpdateItem'));
      expect(buckets).toHaveLength(1);
      expect(buckets[0]?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['rate#*'] } });
    }
  });

  it('caches authorizer answers for 60 s at most, so a revoked write key stops within a minute', () => {
    service.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'TOKEN', AuthorizerResultTtlInSeconds: 60 });
  });

  it('keeps write keys in a retained table with point-in-time recovery and a tenant index', () => {
    stateful.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'keyId', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byTenant' })],
        Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      }),
    });
  });

  it('gives every tenant function the per-tenant limits of the stage and the VPC a DynamoDB endpoint', () => {
    const variables = (prefix: string) => service.findResources('AWS::Lambda::Function')[functionId(service, prefix)]?.['Properties']?.['Environment']?.['Variables'];
    for (const prefix of ['TrackBatchFunction', 'QueryEventsFunction', 'CreateWriteKeyFunction']) {
      expect(variables(prefix)).toMatchObject({
        TENANT_RATE_LIMIT_RPS: String(dev.tenantRateLimits.requestsPerSecond),
        TENANT_RATE_LIMIT_EVENTS: String(dev.tenantRateLimits.eventsPerSecond),
      });
    }
    stateful.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.anyValue() });
  });
});

describe('ingest pipeline', () => {
  it('redrives a record to the DLQ after five receives, encrypted, with six times the writer timeout', () => {
    stateful.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: MAX_RECEIVE_COUNT, deadLetterTargetArn: Match.anyValue() },
      VisibilityTimeout: dev.writer.timeoutSeconds * 6,
      SqsManagedSseEnabled: true,
    });
  });

  it('feeds the writer with partial batch failures, the configured batch and bounded concurrency', () => {
    service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(service, 'WriteEventsFunction') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: dev.writer.batchSize,
      MaximumBatchingWindowInSeconds: dev.writer.batchWindowSeconds,
      ScalingConfig: { MaximumConcurrency: dev.writer.maxConcurrency },
    });
  });
});

describe('data', () => {
  it('keeps Aurora Serverless v2 PostgreSQL 16 encrypted, with backups and the stage capacity', () => {
    stateful.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: dev.database.engineVersion,
      StorageEncrypted: true,
      BackupRetentionPeriod: dev.database.backupRetentionDays,
      ServerlessV2ScalingConfiguration: Match.objectLike({ MinCapacity: dev.database.minCapacityAcu, MaxCapacity: dev.database.maxCapacityAcu }),
    });
  });

  it('retains every stateful resource when the stack goes', () => {
    for (const type of ['AWS::SQS::Queue', 'AWS::DynamoDB::GlobalTable', 'AWS::S3::Bucket', 'AWS::Cognito::UserPool']) {
      for (const resource of Object.values(stateful.findResources(type))) expect(resource['DeletionPolicy']).toBe('Retain');
    }
    for (const resource of Object.values(stateful.findResources('AWS::RDS::DBCluster'))) expect(resource['DeletionPolicy']).toBe('Snapshot');
  });

  it('retains the prod cluster and protects it from deletion', () => {
    const prod = synthesize(stageConfig('prod'));
    prod.stateful.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ DeletionProtection: true }) });
  });

  it('keeps counters on demand with TTL and point-in-time recovery', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  it('archives to a private, encrypted, versioned, TLS-only bucket that moves to Glacier', () => {
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: Match.objectLike({ ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } })] }),
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: 30 }] })]) },
    });
    stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('API', () => {
  it('puts the authorizer on every route but the health check', () => {
    const methods = Object.values(service.findResources('AWS::ApiGateway::Method')).map((method) => method['Properties'] as Record<string, unknown>);
    const routed = methods.filter((method) => method['HttpMethod'] !== 'OPTIONS');
    const paths = (routes: typeof API_ROUTES) => routes.flatMap((route) => routePaths(route));
    expect(routed.filter((method) => method['AuthorizationType'] === 'CUSTOM')).toHaveLength(paths(API_ROUTES.filter((route) => 'scope' in route)).length);
    expect(routed.filter((method) => method['AuthorizationType'] === 'NONE')).toHaveLength(paths(API_ROUTES.filter((route) => !('scope' in route))).length);
    expect(routed).toHaveLength(paths(API_ROUTES).length);
  });

  it("routes every Segment path to one function without the authorizer (it reads the write key itself), with any origin's preflight", () => {
    const segmentFunction = functionId(service, 'TrackSegmentFunction');
    const methods = Object.values(service.findResources('AWS::ApiGateway::Method')).map((method) => method['Properties'] as Record<string, any>);
    const toSegment = methods.filter((method) => method['HttpMethod'] === 'POST' && JSON.stringify(method['Integration']).includes(segmentFunction));

    expect(toSegment).toHaveLength(Object.keys(SEGMENT_PATHS).length);
    expect(toSegment.every((method) => method['AuthorizationType'] === 'NONE')).toBe(true);
    const anyOrigin = methods.filter((method) => method['HttpMethod'] === 'OPTIONS' && JSON.stringify(method['Integration']).includes("'authorization,content-type,x-retry-count'"));
    // One preflight per Segment path, plus the settings document's resources.
    expect(anyOrigin.length).toBeGreaterThanOrEqual(Object.keys(SEGMENT_PATHS).length + 1);
    for (const method of anyOrigin) expect(JSON.stringify(method['Integration'])).toContain(`"method.response.header.Access-Control-Allow-Origin":"'*'"`);
  });

  it('lets the Segment function read write keys, take rate buckets and send to the queue, and the settings function only read write keys', () => {
    // GetItem twice: once on the write-keys table, once (with UpdateItem) on the rate buckets.
    expect(actionsOf(service, functionId(service, 'TrackSegmentFunction'))).toEqual(['dynamodb:GetItem', ...RATE_BUCKETS, 'sqs:SendMessage', ...XRAY].sort());
    expect(actionsOf(service, functionId(service, 'GetSegmentSettingsFunction'))).toEqual(['dynamodb:GetItem', ...XRAY]);
  });

  it('throttles the stage and writes JSON access logs', () => {
    service.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: dev.stage,
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: dev.rateLimits.requestsPerSecond, ThrottlingBurstLimit: dev.rateLimits.burst })],
      AccessLogSetting: Match.objectLike({ Format: Match.stringLikeRegexp('requestId') }),
    });
  });

  it('answers its own 401 and 429 as problem+json', () => {
    service.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Content-Type': "'application/problem+json'" }),
    });
    service.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': "'1'" }),
    });
  });

  it('answers a function at its reserved concurrency (an integration failure) with a retryable 503, not a 500', () => {
    service.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'INTEGRATION_FAILURE',
      StatusCode: '503',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': "'1'", 'gatewayresponse.header.Content-Type': "'application/problem+json'" }),
    });
  });
});

describe('operations', () => {
  it('migrates on deploy through a trigger that runs before the database functions change', () => {
    const triggerIds = Object.keys(service.findResources('Custom::Trigger')).filter((id) => id.startsWith('MigrateDatabaseTrigger'));
    expect(triggerIds).toHaveLength(1);
    for (const prefix of ['WriteEventsFunction', 'GetEventFunction', 'QueryEventsFunction', 'AggregateEventsFunction', 'ListEventTypesFunction', 'MaintainPartitionsFunction']) {
      const fn = service.findResources('AWS::Lambda::Function')[functionId(service, prefix)] as { DependsOn?: string[] };
      expect(fn.DependsOn).toEqual(expect.arrayContaining(triggerIds));
    }
  });

  it("schedules the maintenance job at a quarter past, once a day in dev (whose database pauses)", () => {
    service.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(15 0/24 * * ? *)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(service, 'MaintainPartitionsFunction'), 'Arn'] } })],
    });
  });

  it('alarms when the DLQ is not empty and when the oldest message is over a minute old', () => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [Match.anyValue()] });
    service.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 60 });
    service.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: dev.alarmEmail });
  });

  it('sends every alarm and its recovery to the on-call topic', () => {
    const topic = [{ Ref: Object.keys(service.findResources('AWS::SNS::Topic'))[0] }];
    const alarms = Object.values(service.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm['Properties']);
    expect(alarms.length).toBeGreaterThanOrEqual(10);
    for (const alarm of alarms) expect(alarm).toMatchObject({ AlarmActions: topic, OKActions: topic });
  });

  it('alarms when no event is accepted and nothing waits in the queue for the silent period of the stage, missing data counting as silence', () => {
    expect(alarmProperties(service, 'IngestSilent')).toMatchObject({
      Metrics: [
        { Id: 'expr_1', Expression: 'IF(FILL(accepted, 0) == 0 AND FILL(waiting, 0) == 0, 1, 0)', ReturnData: true },
        { Id: 'accepted', MetricStat: { Metric: { Namespace: 'EventTracker', MetricName: 'EventsAccepted' }, Period: 300, Stat: 'Sum' } },
        { Id: 'waiting', MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [eventsQueue] }, Period: 300, Stat: 'Maximum' } },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: dev.alarms.silentIngestMinutes / 5,
      TreatMissingData: 'breaching',
    });
    expect(alarmProperties(synthesize(stageConfig('prod')).service, 'IngestSilent')['EvaluationPeriods']).toBe(stageConfig('prod').alarms.silentIngestMinutes / 5);
  });

  it('alarms when the events queue holds more messages than ten receives of every writer, five minutes running', () => {
    expect(alarmProperties(service, 'QueueDepth')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [eventsQueue],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: dev.writer.batchSize * dev.writer.maxConcurrency * ALARM.queueDepthWriterRounds,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when more than 5% of the events sent in five minutes are rejected, once there are enough to judge', () => {
    expect(ALARM.rejectedShare).toBe(0.05);
    expect(alarmProperties(service, 'RejectedEventsShare')).toMatchObject({
      Metrics: [
        { Id: 'expr_1', Expression: `IF(FILL(accepted, 0) + FILL(rejected, 0) >= ${ALARM.rejectedShareMinEvents}, FILL(rejected, 0) / (FILL(accepted, 0) + FILL(rejected, 0)), 0)` },
        { Id: 'accepted', MetricStat: { Metric: { Namespace: 'EventTracker', MetricName: 'EventsAccepted' }, Period: 300, Stat: 'Sum' } },
        { Id: 'rejected', MetricStat: { Metric: { Namespace: 'EventTracker', MetricName: 'EventsRejected' }, Period: 300, Stat: 'Sum' } },
      ],
      Threshold: 0.05,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when the writer hands records back to the queue in two 5-minute periods in a row', () => {
    expect(alarmProperties(service, 'QueueRecordsFailed')).toMatchObject({
      Namespace: 'EventTracker',
      MetricName: 'QueueRecordsFailed',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
    });
  });

  it('graphs the events written per event type, every type, on the dashboard', () => {
    const byType = dashboardWidgets(service).find((widget) => widget.properties.metrics.some((metric) => metric.includes('EventsWritten')));
    const types = byType?.properties.metrics.map((metric) => metric.slice(0, 4));
    expect(types).toEqual(EventTypeEnum.options.map((type) => ['EventTracker', 'EventsWritten', 'EventType', type]));
  });
});

describe('maintenance and the archive', () => {
  const arnExport = 'EventTracker-dev-Stateful-ArchiveBucketArn';
  const maintenance = () => functionId(service, 'MaintainPartitionsFunction');
  const variables = () => service.findResources('AWS::Lambda::Function')[maintenance()]?.['Properties']?.['Environment']?.['Variables'] as Record<string, unknown>;

  it("lets the maintenance function write, read back, list and abort uploads in the archive bucket, and no other function touch S3", () => {
    const s3Statements = statementsOf(service, maintenance()).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('s3:')));
    expect(s3Statements).toEqual([
      expect.objectContaining({ Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'], Resource: { 'Fn::Join': ['', [{ 'Fn::ImportValue': arnExport }, '/*']] } }),
      expect.objectContaining({ Action: 's3:ListBucket', Resource: { 'Fn::ImportValue': arnExport } }),
    ]);
    const bucketId = Object.keys(stateful.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }))[0];
    stateful.hasOutput('*', { Export: { Name: arnExport }, Value: { 'Fn::GetAtt': [bucketId, 'Arn'] } });
    // The name an operator restores from (docs/operations.md).
    stateful.hasOutput('ArchiveBucketName', { Value: { Ref: bucketId } });
    expect(variables()['ARCHIVE_BUCKET']).toEqual({ 'Fn::ImportValue': expect.stringContaining('ArchiveBucket') });
    // CDK's providers (AWS...) and the dashboard's BucketDeployment, whose S3 rights dashboard.test.ts checks, are not ours.
    const others = Object.keys(service.findResources('AWS::Lambda::Function')).filter((id) => id !== maintenance() && !id.startsWith('AWS') && !id.startsWith('CustomCDKBucketDeployment'));
    for (const id of others) expect(actionsOf(service, id).filter((action) => action.startsWith('s3:'))).toEqual([]);
  });

  it("gives the maintenance function Lambda's longest timeout, a whole vCPU, the stage's retention and its duty cycle", () => {
    expect(service.findResources('AWS::Lambda::Function')[maintenance()]?.['Properties']).toMatchObject({ Timeout: 900, MemorySize: 1769 });
    expect(variables()).toMatchObject({
      EVENT_RETENTION_DAYS: String(dev.retention.eventDays),
      ROLLUP_RETENTION_DAYS: String(dev.retention.rollupDays),
      TENANT_EVENT_RETENTION: '{}',
      MAINTENANCE_DUTY_CYCLE: String(dev.maintenance.dutyCycle),
      DB_POOL_SIZE: '2',
    });
  });

  it('passes the tenants that keep events shorter to the maintenance function', () => {
    const tenantEventDays = { '0b9a5a52-6f0e-4c4e-9a51-0d6f2f1b7c11': 30 };
    const shorter = synthesize({ ...dev, retention: { ...dev.retention, tenantEventDays } }).service;
    const fn = shorter.findResources('AWS::Lambda::Function')[functionId(shorter, 'MaintainPartitionsFunction')];
    expect(fn?.['Properties']?.['Environment']?.['Variables']?.['TENANT_EVENT_RETENTION']).toBe(JSON.stringify(tenantEventDays));
  });

  it('reaches S3 from the VPC through a gateway endpoint open to the archive bucket alone', () => {
    const bucketId = Object.keys(stateful.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }))[0];
    const endpoints = Object.values(stateful.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } })).map((endpoint) => endpoint['Properties']);
    const s3 = endpoints.find((endpoint) => JSON.stringify(endpoint['ServiceName']).includes('.s3'));
    expect(s3?.['PolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListBucket'],
          Resource: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }],
        },
      ],
    });
  });

  it('aborts multipart uploads left incomplete for a day, which a timed-out run cannot abort itself', () => {
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })]) },
    });
  });

  it('alarms on a failed maintenance run, within the hour', () => {
    expect(alarmProperties(service, 'MaintenanceErrors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: maintenance() } }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when a maintenance run takes more than 80% of its timeout', () => {
    expect(ALARM.maintenanceDurationShare).toBe(0.8);
    expect(alarmProperties(service, 'MaintenanceNearTimeout')).toMatchObject({
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: maintenance() } }],
      Statistic: 'Maximum',
      Threshold: 0.8 * 900_000,
    });
  });

  it('alarms on an archive that failed verification and on a partition the writer had to create', () => {
    for (const metric of [METRIC.archiveVerifyFailed, METRIC.partitionCreatedOnTheFly]) {
      expect(alarmProperties(service, metric)).toMatchObject({
        Namespace: 'EventTracker',
        MetricName: metric,
        Statistic: 'Sum',
        Period: 3600,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });
});

describe('standing still: dev pauses without the proxy, prod keeps both', () => {
  const prodConfig = stageConfig('prod');
  let prod: { stateful: Template; service: Template };
  beforeAll(() => {
    prod = synthesize(prodConfig);
  }, 10 * 60_000);
  const cluster = (template: Template) => Object.values(template.findResources('AWS::RDS::DBCluster'))[0]?.['Properties'] as Record<string, unknown>;
  const interfaceEndpoints = (template: Template) => Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }));
  const fnProps = (template: Template, prefix: string) => template.findResources('AWS::Lambda::Function')[functionId(template, prefix)]?.['Properties'] as Record<string, any>;
  const READERS = ['GetEventFunction', 'QueryEventsFunction', 'AggregateEventsFunction', 'ListEventTypesFunction', 'PurgeEventsFunction', 'ListAuditFunction'];

  it('lets the dev cluster scale to 0 ACU and pause, with IAM logins and the Data API, and no proxy, rotation or Secrets Manager endpoint', () => {
    expect(cluster(stateful)).toMatchObject({
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: dev.database.maxCapacityAcu, SecondsUntilAutoPause: dev.database.autoPauseSeconds },
      EnableIAMDatabaseAuthentication: true,
      EnableHttpEndpoint: true,
    });
    stateful.resourceCountIs('AWS::RDS::DBProxy', 0);
    stateful.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    expect(interfaceEndpoints(stateful)).toEqual([]);
    stateful.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('keeps the prod cluster at its floor behind RDS Proxy, with rotation and the Secrets Manager endpoint', () => {
    const properties = cluster(prod.stateful);
    expect(properties['ServerlessV2ScalingConfiguration']).toEqual({ MinCapacity: prodConfig.database.minCapacityAcu, MaxCapacity: prodConfig.database.maxCapacityAcu });
    expect(properties).not.toHaveProperty('EnableIAMDatabaseAuthentication');
    prod.stateful.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
    prod.stateful.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    expect(interfaceEndpoints(prod.stateful)).toHaveLength(1);
    prod.stateful.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('connects the dev functions to the cluster endpoint as the IAM login over TLS, and the prod ones to the proxy with the secret', () => {
    const devWriter = fnProps(service, 'WriteEventsFunction')['Environment']['Variables'];
    expect(devWriter).toMatchObject({ DB_IAM_USER: 'tracker_service', NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem', DB_HOST: { 'Fn::ImportValue': expect.stringContaining('DatabaseCluster') } });
    expect(devWriter).not.toHaveProperty('DB_SECRET_ARN');
    const prodWriter = fnProps(prod.service, 'WriteEventsFunction')['Environment']['Variables'];
    expect(prodWriter).toMatchObject({ DB_SECRET_ARN: expect.anything(), DB_HOST: { 'Fn::ImportValue': expect.stringContaining('Proxy') } });
    expect(prodWriter).not.toHaveProperty('DB_IAM_USER');
    expect(actionsOf(prod.service, functionId(prod.service, 'WriteEventsFunction'))).toContain('secretsmanager:GetSecretValue');
    expect(actionsOf(prod.service, functionId(prod.service, 'WriteEventsFunction'))).not.toContain('rds-db:connect');
  });

  it('reserves concurrency for every function that reads Aurora, as the stage says', () => {
    for (const [template, config] of [[service, dev], [prod.service, prodConfig]] as const) {
      for (const prefix of READERS) expect(fnProps(template, prefix)['ReservedConcurrentExecutions']).toBe(config.queries.reservedConcurrency);
      expect(fnProps(template, 'TrackBatchFunction')).not.toHaveProperty('ReservedConcurrentExecutions');
    }
  });

  it('makes readers wait a few seconds for a resuming database, and the writer half its timeout', () => {
    for (const prefix of READERS) expect(fnProps(service, prefix)['Environment']['Variables']['DB_CONNECT_WAIT_MS']).toBe(String(CONNECT_WAIT_MS.read));
    expect(fnProps(service, 'WriteEventsFunction')['Environment']['Variables']['DB_CONNECT_WAIT_MS']).toBe(String(writerConnectWaitMs(dev)));
    expect(CONNECT_WAIT_MS.read).toBeLessThan(RESUME_SECONDS * 1000);
  });

  it('keeps a 30 s resume from ever reaching the DLQ: each receive outlasts it, and the receives before the DLQ span minutes', () => {
    const WORST_RESUME_SECONDS = 30;
    const queue = Object.values(stateful.findResources('AWS::SQS::Queue')).find((resource) => resource['Properties']?.['RedrivePolicy'])?.['Properties'] as Record<string, any>;
    const visibility = queue['VisibilityTimeout'] as number;
    const receives = queue['RedrivePolicy']['maxReceiveCount'] as number;
    // A failed delivery comes back after the visibility timeout: the receives before the DLQ span this long.
    expect((receives - 1) * visibility).toBeGreaterThan(10 * WORST_RESUME_SECONDS);
    // The writer's wait ends within its timeout, so a delivery fails as records, not as a timed-out invocation.
    expect(writerConnectWaitMs(dev)).toBeLessThan(dev.writer.timeoutSeconds * 1000);
    expect(visibility).toBeGreaterThan(WORST_RESUME_SECONDS);
  });

  it('creates the IAM login in dev from outside the VPC through the Data API before the migrations, and has no such function in prod', () => {
    const bootstrap = functionId(service, 'BootstrapDatabaseLoginFunction');
    expect(fnProps(service, 'BootstrapDatabaseLoginFunction')).not.toHaveProperty('VpcConfig');
    expect(actionsOf(service, bootstrap)).toEqual(
      ['rds-data:BatchExecuteStatement', 'rds-data:BeginTransaction', 'rds-data:CommitTransaction', 'rds-data:ExecuteStatement', 'rds-data:RollbackTransaction', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', ...XRAY].sort(),
    );
    const triggers = service.findResources('Custom::Trigger');
    const trigger = (prefix: string) => Object.keys(triggers).find((id) => id.startsWith(prefix)) as string;
    expect(triggers[trigger('MigrateDatabaseTrigger')]?.['DependsOn']).toContain(trigger('BootstrapDatabaseLoginTrigger'));
    // No other function may read the master secret.
    const readers = Object.keys(service.findResources('AWS::Lambda::Function')).filter((id) => actionsOf(service, id).includes('secretsmanager:GetSecretValue'));
    expect(readers).toEqual([bootstrap]);
    expect(Object.keys(prod.service.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('BootstrapDatabaseLogin'))).toEqual([]);
  });

  it('runs the maintenance job hourly in prod, whose database never pauses', () => {
    prod.service.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(15 * * * ? *)' });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in any stage', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const app = newTestApp();
      buildStacks(app, stageConfig(stage));
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).not.toThrow();
    }
  });
});

describe('PII policy', () => {
  it('gives the ingest functions the stage rules and no secret when nothing is hashed', () => {
    const variables = service.findResources('AWS::Lambda::Function')[functionId(service, 'TrackBatchFunction')]?.['Properties']?.['Environment']?.['Variables'];
    expect(variables).toMatchObject({ PII_DETECTORS: dev.pii.detectors.join(','), PII_MODE: 'redact', PII_TENANT_POLICIES: '{}' });
    expect(variables).not.toHaveProperty('PII_HASH_SECRET_ARN');
  });

  it('keeps a retained hash secret that only the ingest functions may read when a tenant rule hashes', () => {
    const tenantRules = { '0b9a5a52-6f0e-4c4e-9a51-0d6f2f1b7c11': { detectors: ['email' as const], mode: 'hash' as const } };
    const hashing = synthesize({ ...dev, pii: { ...dev.pii, tenants: tenantRules } });

    hashing.stateful.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    for (const prefix of ['TrackEventFunction', 'TrackBatchFunction', 'TrackSegmentFunction']) {
      const id = functionId(hashing.service, prefix);
      expect(actionsOf(hashing.service, id)).toContain('secretsmanager:GetSecretValue');
      expect(hashing.service.findResources('AWS::Lambda::Function')[id]?.['Properties']?.['Environment']?.['Variables']).toHaveProperty('PII_HASH_SECRET_ARN');
    }
    const readers = Object.values(hashing.service.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy['Properties']?.['PolicyDocument']).includes('PiiHashSecret'))
      .flatMap((policy) => (policy['Properties']?.['Roles'] as Array<{ Ref: string }>).map((role) => role.Ref));
    expect(readers.sort()).toEqual(
      ['TrackEventFunction', 'TrackBatchFunction', 'TrackSegmentFunction'].map((prefix) => hashing.service.findResources('AWS::Lambda::Function')[functionId(hashing.service, prefix)]?.['Properties']?.['Role']['Fn::GetAtt'][0]).sort(),
    );
  });
});

describe('live stream', () => {
  const resourceId = (type: string) => {
    const ids = Object.keys(service.findResources(type));
    expect(ids, type).toHaveLength(1);
    return ids[0] as string;
  };

  it('is a WebSocket API with $connect behind a Lambda authorizer reading the Sec-WebSocket-Protocol header, $disconnect, ping and $default', () => {
    service.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
    const routes = Object.values(service.findResources('AWS::ApiGatewayV2::Route')).map((route) => route['Properties']);
    expect(routes.map((route) => route['RouteKey']).sort()).toEqual(['$connect', '$default', '$disconnect', 'ping']);
    const authorizerId = resourceId('AWS::ApiGatewayV2::Authorizer');
    expect(routes.find((route) => route['RouteKey'] === '$connect')).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
    for (const key of ['$disconnect', '$default', 'ping']) expect(routes.find((route) => route['RouteKey'] === key)).not.toHaveProperty('AuthorizerId');
    const authorizer = service.findResources('AWS::ApiGatewayV2::Authorizer')[authorizerId]?.['Properties'];
    expect(authorizer).toMatchObject({ AuthorizerType: 'REQUEST', AuthorizerUri: { 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::GetAtt': [functionId(service, 'AuthorizeStreamFunction'), 'Arn'] }])] } });
    // The token is a subprotocol, never in the URL: a handshake without the header is refused by API Gateway (401) unread.
    expect(authorizer?.['IdentitySource']).toEqual(['route.request.header.Sec-WebSocket-Protocol']);
  });

  it('answers a ping with pong in API Gateway itself, and sends every other frame to the frames function', () => {
    const routes = service.findResources('AWS::ApiGatewayV2::Route');
    const integrations = service.findResources('AWS::ApiGatewayV2::Integration');
    const routeOf = (key: string) => Object.entries(routes).find(([, route]) => route['Properties']?.['RouteKey'] === key) as [string, { Properties: Record<string, unknown> }];
    const integrationOf = (key: string) => {
      const target = JSON.stringify(routeOf(key)[1].Properties['Target']);
      return Object.entries(integrations).find(([id]) => target.includes(id)) as [string, { Properties: Record<string, unknown> }];
    };
    const [pingRoute, ping] = routeOf('ping');
    expect(ping.Properties['RouteResponseSelectionExpression']).toBe('$default');
    service.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', { RouteId: { Ref: pingRoute }, RouteResponseKey: '$default' });
    const [pongId, pong] = integrationOf('ping');
    expect(pong.Properties).toMatchObject({ IntegrationType: 'MOCK', RequestTemplates: { $default: '{"statusCode":200}' } });
    service.hasResourceProperties('AWS::ApiGatewayV2::IntegrationResponse', { IntegrationId: { Ref: pongId }, IntegrationResponseKey: '$default', ResponseTemplates: { $default: '{"type":"pong"}' } });
    const [, message] = integrationOf('$default');
    expect(message.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY' });
    expect(JSON.stringify(message.Properties['IntegrationUri'])).toContain(functionId(service, 'StreamMessageFunction'));
  });

  it('lets the frames function read connection rows, post to and close this API\'s connections and call the replay reader, from outside the VPC; the reader only reaches Aurora', () => {
    const message = functionId(service, 'StreamMessageFunction');
    expect(actionsOf(service, message)).toEqual(['dynamodb:GetItem', 'execute-api:ManageConnections', 'lambda:InvokeFunction', ...XRAY]);
    expect(service.findResources('AWS::Lambda::Function')[message]?.['Properties']).not.toHaveProperty('VpcConfig');
    const statements = statementsOf(service, message);
    const byAction = (action: string) => statements.filter((statement) => [statement.Action].flat().includes(action));
    expect(byAction('dynamodb:GetItem').map((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^LiveStreamConnections/), 'Arn'] }]);
    expect(byAction('lambda:InvokeFunction').map((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [functionId(service, 'ReadStreamReplayFunction'), 'Arn'] }]);
    const manage = byAction('execute-api:ManageConnections');
    expect(manage).toHaveLength(1);
    const arns = [manage[0]?.Resource].flat().map((arn) => JSON.stringify(arn));
    expect(arns).toHaveLength(2);
    for (const arn of arns) expect(arn).toContain(resourceId('AWS::ApiGatewayV2::Api'));
    expect(arns.map((arn) => /\/v1\/(\w+)\/@connections\/\*/.exec(arn)?.[1])).toEqual(['POST', 'DELETE']);
    const env = (service.findResources('AWS::Lambda::Function')[message]?.['Properties'] as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(env).toMatchObject({ STREAM_REPLAY_FUNCTION: { Ref: functionId(service, 'ReadStreamReplayFunction') } });
    expect(env).toHaveProperty('STREAM_CONNECTIONS_TABLE');
    expect(env).toHaveProperty('STREAM_ENDPOINT');
    // The reader's grants are asserted with the other functions that reach Aurora: the secret, nothing of the stream.
    expect(statementsOf(service, functionId(service, 'ReadStreamReplayFunction')).filter((statement) => JSON.stringify(statement).includes('LiveStream'))).toEqual([]);
  });

  it('throttles the stage and logs named fields only, never the query string that may hold the token', () => {
    const stage = service.findResources('AWS::ApiGatewayV2::Stage');
    const [properties] = Object.values(stage).map((resource) => resource['Properties']);
    expect(properties).toMatchObject({ StageName: 'v1', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: dev.rateLimits.requestsPerSecond } });
    const format = (properties?.['AccessLogSettings'] as { Format: string }).Format;
    expect(Object.keys(JSON.parse(format) as object)).toEqual(['requestId', 'connectionId', 'eventType', 'routeKey', 'status', 'tenantId', 'requestTime', 'error']);
  });

  it('keeps connections in a table by tenant and connection with a TTL', () => {
    service.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'connectionId', KeyType: 'RANGE' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('lets $connect only add and $disconnect only remove connections, and the stream authorizer only read write keys', () => {
    expect(actionsOf(service, functionId(service, 'StreamConnectFunction'))).toEqual(['dynamodb:PutItem', ...XRAY]);
    expect(actionsOf(service, functionId(service, 'StreamDisconnectFunction'))).toEqual(['dynamodb:DeleteItem', ...XRAY]);
    expect(actionsOf(service, functionId(service, 'AuthorizeStreamFunction'))).toEqual(['dynamodb:GetItem', ...XRAY]);
  });

  it("lets the writer look up connections and put items into the outbox, nothing more: no post, no removal", () => {
    const writer = functionId(service, 'WriteEventsFunction');
    const statements = statementsOf(service, writer);
    expect(statements.filter((statement) => JSON.stringify(statement.Action).includes('execute-api'))).toEqual([]);
    const on = (table: RegExp) => statements.filter((statement) => table.test(JSON.stringify(statement.Resource)));
    expect(on(/LiveStreamConnections/)).toEqual([{ Action: 'dynamodb:Query', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LiveStreamConnections/), 'Arn'] } }]);
    expect(on(/LiveStreamOutbox/)).toEqual([{ Action: 'dynamodb:PutItem', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LiveStreamOutbox/), 'Arn'] } }]);
    // Its other DynamoDB statement is the live counters' (asserted with them).
    const others = statements.filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:') && !/LiveStream/.test(JSON.stringify(statement.Resource)));
    expect(others.map((statement) => statement.Action)).toEqual([['dynamodb:UpdateItem', 'dynamodb:GetItem']]);
    const env = (service.findResources('AWS::Lambda::Function')[writer]?.['Properties'] as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(env).toHaveProperty('STREAM_CONNECTIONS_TABLE');
    expect(env).toHaveProperty('STREAM_OUTBOX_TABLE');
    expect(env).not.toHaveProperty('STREAM_ENDPOINT');
  });

  it('keeps the outbox on demand with a TTL and a stream of new images', () => {
    service.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'itemId', KeyType: 'RANGE' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it("runs the fan-out from the outbox's stream, outside the VPC, with bounded retries so a poison record cannot hold the shard", () => {
    const fanOut = functionId(service, 'FanOutStoredEventsFunction');
    expect(service.findResources('AWS::Lambda::Function')[fanOut]?.['Properties']).not.toHaveProperty('VpcConfig');
    const mappings = Object.values(service.findResources('AWS::Lambda::EventSourceMapping')).map((mapping) => mapping['Properties'] as Record<string, unknown>);
    const fromOutbox = mappings.filter((mapping) => JSON.stringify(mapping['EventSourceArn']).includes('LiveStreamOutbox'));
    expect(fromOutbox).toHaveLength(1);
    expect(fromOutbox[0]).toMatchObject({
      FunctionName: { Ref: fanOut },
      StartingPosition: 'LATEST',
      BatchSize: 10,
      ParallelizationFactor: 4,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 300,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
    });
    expect(fromOutbox[0]).not.toHaveProperty('DestinationConfig');
  });

  it("lets the fan-out read the outbox's stream, read and remove connection rows and post to this API's connections, nothing more", () => {
    const fanOut = functionId(service, 'FanOutStoredEventsFunction');
    const streamRead = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];
    expect(actionsOf(service, fanOut)).toEqual([...streamRead, 'dynamodb:DeleteItem', 'dynamodb:Query', 'execute-api:ManageConnections', ...XRAY].sort());
    const statements = statementsOf(service, fanOut);
    const connections = statements.filter((statement) => JSON.stringify(statement.Resource).includes('LiveStreamConnections'));
    expect(connections).toEqual([{ Action: ['dynamodb:Query', 'dynamodb:DeleteItem'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LiveStreamConnections/), 'Arn'] } }]);
    const records = statements.filter((statement) => [statement.Action].flat().includes('dynamodb:GetRecords'));
    expect(records.map((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^LiveStreamOutbox/), 'StreamArn'] }]);
    const manage = statements.filter((statement) => statement.Action === 'execute-api:ManageConnections');
    expect(manage).toHaveLength(1);
    const arn = JSON.stringify(manage[0]?.Resource);
    expect(arn).toContain(resourceId('AWS::ApiGatewayV2::Api'));
    expect(arn).toContain('/v1/POST/@connections/*');
    const env = (service.findResources('AWS::Lambda::Function')[fanOut]?.['Properties'] as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(env).toHaveProperty('STREAM_CONNECTIONS_TABLE');
    expect(env).toHaveProperty('STREAM_ENDPOINT');
  });
});
