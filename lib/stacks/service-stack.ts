import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Trigger } from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/config.js';
import { Api } from '../constructs/api.js';
import { AppFunction } from '../constructs/app-function.js';
import { Observability } from '../constructs/observability.js';
import type { StageConfig } from '../stage-config.js';
import type { StatefulStack } from './stateful-stack.js';

export interface ServiceStackProps extends StackProps {
  config: StageConfig;
  stateful: StatefulStack;
}

/**
 * Everything that can be replaced without losing data: functions, API, schedules, alarms.
 * Migrations run by a trigger before the functions that need the new schema are updated.
 */
export class ServiceStack extends Stack {
  readonly api: Api;
  readonly functions: Record<
    | 'authorize'
    | 'trackEvent'
    | 'trackBatch'
    | 'getEvent'
    | 'queryEvents'
    | 'aggregateEvents'
    | 'listEventTypes'
    | 'purgeEvents'
    | 'listAudit'
    | 'createWriteKey'
    | 'listWriteKeys'
    | 'revokeWriteKey'
    | 'openApi'
    | 'health'
    | 'writeEvents'
    | 'migrateDatabase'
    | 'maintainPartitions',
    AppFunction
  >;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const database = stateful.database;
    const logRetention = config.retention.logDays as RetentionDays;
    const inVpc = { vpc: database.vpc, subnets: database.subnets, securityGroups: [database.functionSecurityGroup] };
    const ingestSettings = {
      [ENV.eventRetentionDays]: String(config.retention.eventDays),
      [ENV.sqsMaxMessageBytes]: String(256 * 1024),
    };
    const fn = (name: string, handlerDir: string, description: string, extra: Partial<ConstructorParameters<typeof AppFunction>[2]> = {}) =>
      new AppFunction(this, name, { handlerDir, description, logRetention, ...extra });

    const authorize = fn('AuthorizeFunction', 'authorize', 'Verifies bearer JWTs and write keys and maps them to tenant and scopes')
      .bindSettings({
        [ENV.jwksUrl]: stateful.users.jwksUrl,
        [ENV.jwtIssuer]: stateful.users.issuer,
        [ENV.jwtAudience]: stateful.users.client.userPoolClientId,
      })
      .bindWriteKeys(stateful.writeKeys.table, 'read');
    const trackEvent = fn('TrackEventFunction', 'track-event', 'POST /v1/events: validate, mask, queue')
      .bindEventsQueueSender(stateful.events.queue)
      .bindPiiPolicy(config.pii, stateful.piiHashSecret)
      .bindSettings(ingestSettings);
    const trackBatch = fn('TrackBatchFunction', 'track-batch', 'POST /v1/events/batch: validate, mask, queue, receipt per index', { memorySize: 1024 })
      .bindEventsQueueSender(stateful.events.queue)
      .bindPiiPolicy(config.pii, stateful.piiHashSecret)
      .bindSettings(ingestSettings);
    const getEvent = fn('GetEventFunction', 'get-event', 'GET /v1/events/{eventId}', { vpc: inVpc }).bindDatabase(database, 2);
    const health = fn('HealthFunction', 'health', 'GET /v1/health', { memorySize: 128 });
    const openApi = fn('GetOpenApiFunction', 'get-openapi', 'GET /v1/openapi.json', { memorySize: 256 });
    const querySettings = { [ENV.eventRetentionDays]: String(config.retention.eventDays) };
    const queryFn = (name: string, handlerDir: string, description: string) =>
      fn(name, handlerDir, description, { vpc: inVpc, memorySize: 1024, timeout: Duration.seconds(15) }).bindDatabase(database, 2).bindSettings(querySettings);
    const queryEvents = queryFn('QueryEventsFunction', 'query-events', 'POST /v1/events/query');
    const aggregateEvents = queryFn('AggregateEventsFunction', 'aggregate-events', 'POST /v1/analytics/aggregate');
    const listEventTypes = queryFn('ListEventTypesFunction', 'list-event-types', 'GET /v1/analytics/event-types');
    const purgeEvents = fn('PurgeEventsFunction', 'purge-events', 'DELETE /v1/events (admin): batched, audited', {
      vpc: inVpc,
      timeout: Duration.seconds(29),
    }).bindDatabase(database, 1);
    const listAudit = queryFn('ListAuditFunction', 'list-audit', 'GET /v1/audit (admin)');
    // Outside the VPC: they only touch DynamoDB.
    const keyFn = (name: string, handlerDir: string, description: string, access: 'create' | 'list' | 'revoke') =>
      fn(name, handlerDir, description, { memorySize: 256 }).bindWriteKeys(stateful.writeKeys.table, access);
    const createWriteKey = keyFn('CreateWriteKeyFunction', 'create-write-key', 'POST /v1/keys (admin)', 'create');
    const listWriteKeys = keyFn('ListWriteKeysFunction', 'list-write-keys', 'GET /v1/keys (admin)', 'list');
    const revokeWriteKey = keyFn('RevokeWriteKeyFunction', 'revoke-write-key', 'DELETE /v1/keys/{keyId} (admin)', 'revoke');

    const writeEvents = fn('WriteEventsFunction', 'write-events', 'Writes queued events to Aurora: dedupe, rollups, audit in one transaction', {
      vpc: inVpc,
      memorySize: 1024,
      timeout: Duration.seconds(config.writer.timeoutSeconds),
    }).bindDatabase(database, config.writer.dbPoolSize);
    writeEvents.addEventSource(
      new SqsEventSource(stateful.events.queue, {
        batchSize: config.writer.batchSize,
        maxBatchingWindow: Duration.seconds(config.writer.batchWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: config.writer.maxConcurrency,
      }),
    );

    const maintainPartitions = fn('MaintainPartitionsFunction', 'maintain-partitions', 'Creates the monthly event partitions ahead of time', {
      vpc: inVpc,
      timeout: Duration.minutes(1),
    }).bindDatabase(database, 1);
    new Rule(this, 'MaintainPartitionsSchedule', {
      description: 'Daily: partitions for this month and the next three',
      schedule: Schedule.cron({ minute: '15', hour: '3' }),
      targets: [new LambdaFunction(maintainPartitions, { retryAttempts: 2 })],
    });

    const migrateDatabase = fn('MigrateDatabaseFunction', 'migrate-database', 'Applies pending SQL migrations (deploy trigger)', {
      vpc: inVpc,
      timeout: Duration.minutes(5),
      bundleMigrations: true,
    }).bindDatabase(database, 1);
    new Trigger(this, 'MigrateDatabaseTrigger', {
      handler: migrateDatabase,
      timeout: Duration.minutes(5),
      executeOnHandlerChange: true,
      // A failed migration fails the deploy before these are updated: the old code keeps serving.
      executeBefore: [writeEvents, getEvent, queryEvents, aggregateEvents, listEventTypes, purgeEvents, listAudit, maintainPartitions],
    });

    this.functions = {
      authorize,
      trackEvent,
      trackBatch,
      getEvent,
      queryEvents,
      aggregateEvents,
      listEventTypes,
      purgeEvents,
      listAudit,
      createWriteKey,
      listWriteKeys,
      revokeWriteKey,
      openApi,
      health,
      writeEvents,
      migrateDatabase,
      maintainPartitions,
    };
    const corsSetting = { [ENV.corsOrigins]: config.corsOrigins.join(',') };
    const tenantFunctions = [trackEvent, trackBatch, getEvent, queryEvents, aggregateEvents, listEventTypes, purgeEvents, listAudit, createWriteKey, listWriteKeys, revokeWriteKey];
    for (const httpFunction of [...tenantFunctions, openApi, health]) httpFunction.bindSettings(corsSetting);
    for (const httpFunction of tenantFunctions) httpFunction.bindRateLimiter(stateful.counters.table, config.tenantRateLimits);
    this.api = new Api(this, 'Api', {
      config,
      authorizer: authorize,
      functions: {
        'track-event': trackEvent,
        'track-batch': trackBatch,
        'get-event': getEvent,
        'query-events': queryEvents,
        'aggregate-events': aggregateEvents,
        'list-event-types': listEventTypes,
        'purge-events': purgeEvents,
        'list-audit': listAudit,
        'create-write-key': createWriteKey,
        'list-write-keys': listWriteKeys,
        'revoke-write-key': revokeWriteKey,
        'get-openapi': openApi,
        health,
      },
      logRetention,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url });

    new Observability(this, 'Observability', {
      config,
      api: this.api.restApi,
      queue: stateful.events.queue,
      deadLetterQueue: stateful.events.deadLetterQueue,
      writer: writeEvents,
      queryFunctions: [queryEvents, aggregateEvents, listEventTypes, getEvent],
      cluster: database.cluster,
    });

    Validations.of(this).acknowledge({ id: 'AwsSolutions-L1', reason: 'Node.js 22 is the runtime the code is built and tested for (DESIGN.md).' });
  }
}
