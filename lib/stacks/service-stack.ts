import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Trigger } from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import { ROUTES } from '../../lambdas/routes.js';
import { handlerModule, type Routes, type RouteSpec } from '../../lambdas/shared/adapters/http/route-spec.js';
import { ENV } from '../../lambdas/shared/config.js';
import { Api } from '../constructs/api.js';
import { AppFunction, type AppFunctionProps } from '../constructs/app-function.js';
import { DashboardHosting } from '../constructs/dashboard-hosting.js';
import { LiveStream } from '../constructs/live-stream.js';
import { Observability } from '../constructs/observability.js';
import { MAINTENANCE_POOL, MIGRATION_POOL, STREAM_REPLAY_POOL, type StageConfig } from '../stage-config.js';
import type { StatefulStack } from './stateful-stack.js';

export interface ServiceStackProps extends StackProps {
  config: StageConfig;
  stateful: StatefulStack;
  /** The HTTP routes, each served by a function of its own; the deployed table by default. */
  routes?: Routes;
}

/**
 * How long each kind of caller waits for a database that refuses or holds its connections
 * (Aurora resuming from a pause takes about 15 s, at worst 30 s). A reader gives up first and
 * answers 503 with Retry-After: a user should not stare at a spinner for half a minute. The
 * writer waits half its timeout, so that a resume usually costs no redelivery at all; the jobs
 * wait a minute, which their timeouts (5 and 15 minutes) allow.
 */
export const CONNECT_WAIT_MS = { read: 5_000, job: 60_000 } as const;
export const writerConnectWaitMs = (config: StageConfig): number => (config.writer.timeoutSeconds * 1000) / 2;

/** `track-event` -> `TrackEventFunction`: the construct id of a route's function. */
const constructId = (fn: string): string => `${fn.replace(/(^|-)(\w)/g, (_match, _dash: string, letter: string) => letter.toUpperCase())}Function`;

/**
 * Everything that can be replaced without losing data: functions, API, schedules, alarms.
 * Migrations run by a trigger before the functions that need the new schema are updated.
 */
export class ServiceStack extends Stack {
  readonly api: Api;
  readonly liveStream: LiveStream;
  readonly dashboard: DashboardHosting;
  /** Every function, by its folder under `lambdas/` (a route's function by its key in the route table). */
  readonly functions: Record<string, AppFunction>;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const routes = props.routes ?? ROUTES;
    const database = stateful.database;
    const logRetention = config.retention.logDays as RetentionDays;
    const inVpc = { vpc: database.vpc, subnets: database.subnets, securityGroups: [database.functionSecurityGroup] };
    const fn = (name: string, handlerModule: string, description: string, extra: Partial<AppFunctionProps> = {}) =>
      new AppFunction(this, constructId(name), { handlerModule, description, logRetention, ...extra });

    // Both authorizers verify the same JWTs and read write keys, nothing else.
    const authorizer = (name: string, handlerModule: string, description: string) =>
      fn(name, handlerModule, description)
        .bindSettings({
          [ENV.jwksUrl]: stateful.users.jwksUrl,
          [ENV.jwtIssuer]: stateful.users.issuer,
          [ENV.jwtAudience]: stateful.users.client.userPoolClientId,
        })
        .bindWriteKeys(stateful.writeKeys.table, 'read');
    const authorize = authorizer('authorize', 'lambdas/authorize/handler.ts', 'Verifies bearer JWTs and write keys and maps them to tenant and scopes');

    // What the maintenance job keeps, which the retention status route reports.
    const retentionSettings = {
      [ENV.eventRetentionDays]: String(config.retention.eventDays),
      [ENV.rollupRetentionDays]: String(config.retention.rollupDays),
      [ENV.tenantEventRetention]: JSON.stringify(config.retention.tenantEventDays),
    };

    // What each route's entry in the table says it needs, and nothing more.
    const routeFunction = (name: string, route: RouteSpec): AppFunction => {
      const needs = route.needs ?? {};
      const routeFn = fn(name, handlerModule(name, route), `${route.method} ${route.path}: ${route.summary}`.slice(0, 256), {
        memorySize: needs.memoryMb,
        timeout: needs.timeoutSeconds === undefined ? undefined : Duration.seconds(needs.timeoutSeconds),
        // Only what reaches Aurora runs in the VPC; the rest reaches DynamoDB and SQS directly.
        vpc: needs.database ? inVpc : undefined,
        // Bounds the connections they can open (the stage config checks the sum).
        reservedConcurrency: needs.database ? config.queries.reservedConcurrency : undefined,
      });
      routeFn.bindSettings({ [ENV.corsOrigins]: config.corsOrigins.join(','), [ENV.eventRetentionDays]: String(config.retention.eventDays) });
      if (needs.database) routeFn.bindDatabase(database, needs.database.poolSize, CONNECT_WAIT_MS.read);
      if (needs.queue) {
        routeFn
          .bindEventsQueueSender(stateful.events.queue)
          .bindPiiPolicy(config.pii, stateful.piiHashSecret)
          .bindSettings({ [ENV.sqsMaxMessageBytes]: String(256 * 1024) });
      }
      if (needs.writeKeys) routeFn.bindWriteKeys(stateful.writeKeys.table, needs.writeKeys);
      if (needs.liveCounters) routeFn.bindLiveCounters(stateful.counters.table, needs.liveCounters);
      if (needs.retentionSettings) routeFn.bindSettings(retentionSettings);
      if (route.scope || route.credential) routeFn.bindRateLimiter(stateful.counters.table, config.tenantRateLimits);
      return routeFn;
    };
    const routeFunctions = Object.fromEntries(Object.entries(routes).map(([name, route]) => [name, routeFunction(name, route)]));

    const writeEvents = fn('write-events', 'lambdas/write-events/handler.ts', 'Writes queued events to Aurora: dedupe, rollups, audit in one transaction; then the live counters', {
      vpc: inVpc,
      memorySize: 1024,
      timeout: Duration.seconds(config.writer.timeoutSeconds),
    })
      .bindDatabase(database, config.writer.dbPoolSize, writerConnectWaitMs(config))
      .bindLiveCounters(stateful.counters.table, 'update');
    writeEvents.addEventSource(
      new SqsEventSource(stateful.events.queue, {
        batchSize: config.writer.batchSize,
        maxBatchingWindow: Duration.seconds(config.writer.batchWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: config.writer.maxConcurrency,
      }),
    );

    const streamAuthorizer = authorizer('authorize-stream', 'lambdas/authorize-stream/handler.ts', "The live stream's $connect authorizer: the same JWTs and write keys as the REST API");
    const streamConnect = fn('stream-connect', 'lambdas/stream-connect/handler.ts', 'Live stream $connect: checks scope and filters, records the connection');
    const streamDisconnect = fn('stream-disconnect', 'lambdas/stream-disconnect/handler.ts', 'Live stream $disconnect: removes the connection');
    // Resumes: the frames' function posts, so it is outside the VPC; its reader reaches Aurora.
    const streamMessage = fn('stream-message', 'lambdas/stream-message/handler.ts', 'Live stream client frames: answers a resume, refuses a malformed frame', {
      // A replay of up to 1,000 events is posted one frame at a time, in order.
      timeout: Duration.seconds(30),
    });
    // Reserved like the query functions: its connections count in the stage's arithmetic.
    const streamReplayReader = fn('read-stream-replay', 'lambdas/read-stream-replay/handler.ts', 'Live stream resume: the events a reconnecting subscriber missed, from Aurora', {
      vpc: inVpc,
      reservedConcurrency: config.queries.reservedConcurrency,
    }).bindDatabase(database, STREAM_REPLAY_POOL, CONNECT_WAIT_MS.read);
    // Outside the VPC: the management endpoint is public only, and the VPC has no NAT.
    const fanOut = fn('fan-out-stored-events', 'lambdas/fan-out-stored-events/handler.ts', "Live stream: posts the writer's stored events from the outbox to the tenants' connections", {
      timeout: Duration.seconds(30),
    });
    this.liveStream = new LiveStream(this, 'LiveStream', {
      config,
      authorizer: streamAuthorizer,
      connect: streamConnect,
      disconnect: streamDisconnect,
      message: streamMessage,
      replayReader: streamReplayReader,
      writer: writeEvents,
      fanOut,
      logRetention,
    });

    // The maintenance job: partitions ahead, then archive, verify and drop the expired ones, and
    // prune rollups, dedupe rows and sets. The timeout is Lambda's maximum, 15 minutes: a
    // tenant's export of a month must fit in one run (a run cut off resumes at the tenant under
    // way), the steps after it resume at the next run from the last one recorded. Its alarm
    // warns at 80%.
    const maintenance = fn('maintain-partitions', 'lambdas/maintain-partitions/handler.ts', 'Maintenance: partitions ahead, archive and drop expired ones, prune rollups', {
      vpc: inVpc,
      timeout: Duration.minutes(15),
      // CPU-bound (JSON lines, gzip, SHA-256) and streamed, so memory stays small: 1,769 MB is
      // where Lambda gives a whole vCPU.
      memorySize: 1769,
    })
      .bindDatabase(database, MAINTENANCE_POOL, CONNECT_WAIT_MS.job)
      .bindArchive(stateful.archive)
      .bindSettings({ ...retentionSettings, [ENV.maintenanceDutyCycle]: String(config.maintenance.dutyCycle) });
    const { everyHours } = config.maintenance;
    new Rule(this, 'MaintainPartitionsSchedule', {
      // Hourly where the database never pauses: a month cut short by the timeout resumes within
      // the hour. Daily where it pauses: every run connects, and hourly runs would keep it awake
      // for most of the day. Off the hour, away from the top-of-hour peaks of scheduled senders.
      description: `Every ${everyHours} h: partitions ahead, archive and drop expired partitions, prune rollups and dedupe rows`,
      schedule: Schedule.cron({ minute: '15', hour: everyHours === 1 ? '*' : `0/${everyHours}` }),
      targets: [new LambdaFunction(maintenance, { retryAttempts: 2 })],
    });

    const migrateDatabase = fn('migrate-database', 'lambdas/migrate-database/handler.ts', 'Applies pending SQL migrations (deploy trigger)', {
      vpc: inVpc,
      timeout: Duration.minutes(5),
      bundleMigrations: true,
    }).bindDatabase(database, MIGRATION_POOL, CONNECT_WAIT_MS.job);
    const routesOnAurora = Object.entries(routes).filter(([, route]) => route.needs?.database);
    const migrateTrigger = new Trigger(this, 'MigrateDatabaseTrigger', {
      handler: migrateDatabase,
      timeout: Duration.minutes(5),
      executeOnHandlerChange: true,
      // A failed migration fails the deploy before these are updated: the old code keeps serving.
      executeBefore: [writeEvents, maintenance, streamReplayReader, ...routesOnAurora.map(([name]) => routeFunctions[name] as AppFunction)],
    });
    const bootstrap = database.proxy ? undefined : this.bootstrapIamLogin(database, logRetention);
    if (bootstrap) migrateTrigger.executeAfter(bootstrap.trigger);

    this.functions = {
      authorize,
      ...routeFunctions,
      'write-events': writeEvents,
      'migrate-database': migrateDatabase,
      ...(bootstrap ? { 'bootstrap-database-login': bootstrap.handler } : {}),
      'maintain-partitions': maintenance,
      'authorize-stream': streamAuthorizer,
      'stream-connect': streamConnect,
      'stream-disconnect': streamDisconnect,
      'stream-message': streamMessage,
      'read-stream-replay': streamReplayReader,
      'fan-out-stored-events': fanOut,
    };
    this.api = new Api(this, 'Api', { config, routes, authorizer: authorize, functions: routeFunctions, logRetention });

    this.dashboard = new DashboardHosting(this, 'Dashboard', {
      restApi: this.api.restApi,
      stageName: config.stage,
      webSocketApi: this.liveStream.api,
      webSocketStageName: this.liveStream.stage.stageName,
      userPool: stateful.users.userPool,
      hostedUiDomain: stateful.users.hostedUiUrl,
    });
    // The ID tokens of the dashboard's app client are the API's too.
    for (const verifier of [authorize, streamAuthorizer]) {
      verifier.bindSettings({ [ENV.jwtAudience]: `${stateful.users.client.userPoolClientId},${this.dashboard.client.userPoolClientId}` });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url });
    new CfnOutput(this, 'DashboardUrl', { value: this.dashboard.url });
    new CfnOutput(this, 'StreamUrl', { value: this.liveStream.stage.url });

    new Observability(this, 'Observability', {
      config,
      api: this.api.restApi,
      queue: stateful.events.queue,
      deadLetterQueue: stateful.events.deadLetterQueue,
      writer: writeEvents,
      maintenance,
      // The readers of events, whose duration is what a user waits for.
      queryFunctions: routesOnAurora.filter(([, route]) => route.scope === 'events:read').map(([name]) => routeFunctions[name] as AppFunction),
      cluster: database.cluster,
    });

    Validations.of(this).acknowledge({ id: 'AwsSolutions-L1', reason: 'Node.js 22 is the runtime the code is built and tested for (DESIGN.md).' });
  }

  /**
   * Stages without the proxy: the IAM login the functions and the migrations use, made by the
   * master user through the Data API before the migrations run. Outside the VPC, so the VPC
   * needs no endpoint; it may read the master secret, which no other function can.
   */
  private bootstrapIamLogin(database: StatefulStack['database'], logRetention: RetentionDays): { trigger: Trigger; handler: AppFunction } {
    const handler = new AppFunction(this, 'BootstrapDatabaseLoginFunction', {
      handlerModule: 'lambdas/bootstrap-database-login/handler.ts',
      description: 'Creates the IAM database login (Data API, master secret) before the migrations',
      logRetention,
      // A paused cluster resumes within 30 s; the Data API is asked again until then.
      timeout: Duration.minutes(2),
    }).bindSettings({ [ENV.clusterArn]: database.cluster.clusterArn, [ENV.clusterSecretArn]: database.secret.secretArn, [ENV.dbName]: database.databaseName });
    database.cluster.grantDataApiAccess(handler);
    const trigger = new Trigger(this, 'BootstrapDatabaseLoginTrigger', { handler, timeout: Duration.minutes(2), executeOnHandlerChange: true });
    return { trigger, handler };
  }
}
