import { join } from 'node:path';
import { z } from 'zod';
import { MAX_BATCH_EVENTS, MAX_RETENTION_DAYS } from './domain/limits.js';
import { PII_DETECTORS, PII_MODES, type PiiSettings } from './domain/pii-masking.js';
import type { LiveCounterSettings } from './domain/live-counters.js';
import type { TenantRateLimits } from './domain/rate-limit.js';

/** Environment variable names; the CDK constructs import these so the two cannot drift. */
export const ENV = {
  databaseUrl: 'DATABASE_URL',
  dbPoolSize: 'DB_POOL_SIZE',
  dbSecretArn: 'DB_SECRET_ARN',
  dbHost: 'DB_HOST',
  dbName: 'DB_NAME',
  dbIamUser: 'DB_IAM_USER',
  dbConnectWaitMs: 'DB_CONNECT_WAIT_MS',
  clusterArn: 'CLUSTER_ARN',
  clusterSecretArn: 'CLUSTER_SECRET_ARN',
  eventsQueueUrl: 'EVENTS_QUEUE_URL',
  sqsMaxMessageBytes: 'SQS_MAX_MESSAGE_BYTES',
  piiDetectors: 'PII_DETECTORS',
  piiMode: 'PII_MODE',
  piiTenantPolicies: 'PII_TENANT_POLICIES',
  piiHashSecret: 'PII_HASH_SECRET',
  piiHashSecretArn: 'PII_HASH_SECRET_ARN',
  eventRetentionDays: 'EVENT_RETENTION_DAYS',
  jwtSecret: 'JWT_SECRET',
  jwksUrl: 'JWKS_URL',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  port: 'PORT',
  dataDir: 'DATA_DIR',
  writerBatchSize: 'WRITER_BATCH_SIZE',
  writerBatchWindowMs: 'WRITER_BATCH_WINDOW_MS',
  queueMaxReceiveCount: 'QUEUE_MAX_RECEIVE_COUNT',
  queueVisibilityTimeoutMs: 'QUEUE_VISIBILITY_TIMEOUT_MS',
  corsOrigins: 'CORS_ORIGINS',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  countersTable: 'COUNTERS_TABLE',
  writeKeysTable: 'WRITE_KEYS_TABLE',
  tenantRateLimitRps: 'TENANT_RATE_LIMIT_RPS',
  tenantRateLimitEvents: 'TENANT_RATE_LIMIT_EVENTS',
  rollupRetentionDays: 'ROLLUP_RETENTION_DAYS',
  archiveBucket: 'ARCHIVE_BUCKET',
  archiveDir: 'ARCHIVE_DIR',
  maintenanceIntervalMs: 'MAINTENANCE_INTERVAL_MS',
  maintenanceDutyCycle: 'MAINTENANCE_DUTY_CYCLE',
  tenantEventRetention: 'TENANT_EVENT_RETENTION',
  liveCounterShards: 'LIVE_COUNTER_SHARDS',
  liveCounterTtlHours: 'LIVE_COUNTER_TTL_HOURS',
  streamHeartbeatMs: 'STREAM_HEARTBEAT_MS',
  streamRecentEvents: 'STREAM_RECENT_EVENTS',
  streamResumeWindowMs: 'STREAM_RESUME_WINDOW_MS',
  streamSubscriberBufferBytes: 'STREAM_SUBSCRIBER_BUFFER_BYTES',
  streamConnectionsTable: 'STREAM_CONNECTIONS_TABLE',
  streamEndpoint: 'STREAM_ENDPOINT',
  streamReplayFunction: 'STREAM_REPLAY_FUNCTION',
  streamOutboxTable: 'STREAM_OUTBOX_TABLE',
  dashboardHostedUi: 'DASHBOARD_HOSTED_UI',
  dashboardClientId: 'DASHBOARD_CLIENT_ID',
} as const;

/** A bad environment: every offending key is named, so one restart fixes them all. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

const optionalText = z.string().min(1).optional();
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const secret = z.string().min(32, 'must be at least 32 characters');
// Longer, and one queue message could name more months than its header holds (domain/limits.ts).
const retentionDayCount = z.coerce.number().int().positive().max(MAX_RETENTION_DAYS);
const retentionDays = retentionDayCount.default(90);
const commaList = <Item extends z.ZodType<unknown, string>>(item: Item, fallback: string) =>
  z.string().default(fallback).transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean)).pipe(z.array(item));

/** A JSON object in one variable; `{}` when unset. */
const jsonObject = z
  .string()
  .default('{}')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
  });

// {"<tenant uuid>": {"detectors": ["email", "ip"], "mode": "hash"}}: tenants whose rule differs.
const piiTenantPolicies = jsonObject
  .pipe(z.record(z.uuid(), z.strictObject({ detectors: z.array(z.enum(PII_DETECTORS)), mode: z.enum(PII_MODES) })));

const Http = z
  // Browser origins allowed to call the API; empty: no CORS headers at all.
  .object({ [ENV.corsOrigins]: commaList(z.url(), '') })
  .transform((env) => ({ corsOrigins: env[ENV.corsOrigins] }));

const Ingest = z
  .object({
    [ENV.eventsQueueUrl]: z.url().optional(),
    // SQS accepts up to 1 MiB since 2025, but 256 KiB is what every region and tool supports.
    [ENV.sqsMaxMessageBytes]: positiveInt(256 * 1024),
    [ENV.piiDetectors]: commaList(z.enum(PII_DETECTORS), PII_DETECTORS.join(',')),
    // hash: found PII becomes a per-tenant keyed hash instead of a plain [email] marker.
    [ENV.piiMode]: z.enum(PII_MODES).default('redact'),
    [ENV.piiTenantPolicies]: piiTenantPolicies,
    [ENV.piiHashSecret]: secret.optional(),
    // In AWS the secret stays in Secrets Manager; the ingest functions read it at cold start.
    [ENV.piiHashSecretArn]: z.string().startsWith('arn:').optional(),
    [ENV.eventRetentionDays]: retentionDays,
  })
  .transform((env) => {
    const pii: PiiSettings = {
      deployment: { detectors: env[ENV.piiDetectors], mode: env[ENV.piiMode] },
      tenants: env[ENV.piiTenantPolicies],
      hashSecret: env[ENV.piiHashSecret],
    };
    return {
      eventsQueueUrl: env[ENV.eventsQueueUrl],
      sqsMaxMessageBytes: env[ENV.sqsMaxMessageBytes],
      pii,
      /** Where the hash secret is, when it is not in `pii.hashSecret` itself. */
      piiHashSecretArn: env[ENV.piiHashSecretArn],
      eventRetentionDays: env[ENV.eventRetentionDays],
    };
  })
  .refine(
    ({ pii, piiHashSecretArn }) => pii.hashSecret !== undefined || piiHashSecretArn !== undefined || [pii.deployment, ...Object.values(pii.tenants)].every((rule) => rule.mode !== 'hash'),
    { path: [ENV.piiHashSecret], message: `is required when ${ENV.piiMode} or a tenant policy says hash (or ${ENV.piiHashSecretArn} in AWS)` },
  );

/** The deployed ingest functions send to SQS; the local runtime has a queue of its own. */
export const AwsIngest = Ingest.refine((ingest): ingest is typeof ingest & { eventsQueueUrl: string } => ingest.eventsQueueUrl !== undefined, {
  path: [ENV.eventsQueueUrl],
  message: 'is required in AWS',
});

/** The query functions need the retention, to refuse ranges longer than the data kept. */
export const Query = z.object({ [ENV.eventRetentionDays]: retentionDays }).transform((env) => ({ eventRetentionDays: env[ENV.eventRetentionDays] }));

/** The deployed maintenance function archives to S3; the local runtime to a folder. */
export const AwsArchive = z
  .object({
    // S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens.
    [ENV.archiveBucket]: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name').optional(),
  })
  .transform((env) => ({ bucket: env[ENV.archiveBucket] }))
  .refine((archive): archive is { bucket: string } => archive.bucket !== undefined, { path: [ENV.archiveBucket], message: 'is required in AWS' });

export const Database = z
  .object({
    [ENV.databaseUrl]: optionalText,
    [ENV.dbPoolSize]: positiveInt(4),
    // In AWS, one of: credentials from Secrets Manager for RDS Proxy's host, or an IAM database
    // user for the cluster's own endpoint (stages without the proxy).
    [ENV.dbSecretArn]: optionalText,
    [ENV.dbIamUser]: optionalText,
    [ENV.dbHost]: optionalText,
    [ENV.dbName]: z.string().min(1).default('tracker'),
    // How long a caller waits for a database that refuses or holds connections (resuming from a pause).
    [ENV.dbConnectWaitMs]: z.coerce.number().int().min(0).max(60_000).default(0),
  })
  .transform((env) => ({
    databaseUrl: env[ENV.databaseUrl],
    poolSize: env[ENV.dbPoolSize],
    secretArn: env[ENV.dbSecretArn],
    iamUser: env[ENV.dbIamUser],
    host: env[ENV.dbHost],
    name: env[ENV.dbName],
    connectWaitMs: env[ENV.dbConnectWaitMs],
  }));

/** A deployed function has no embedded database to fall back on. */
export const AwsDatabase = Database.refine(
  (db): db is typeof db & ({ databaseUrl: string } | { databaseUrl: undefined; host: string } & ({ iamUser: string } | { iamUser: undefined; secretArn: string })) =>
    db.databaseUrl !== undefined || (db.host !== undefined && (db.secretArn !== undefined) !== (db.iamUser !== undefined)),
  { path: [ENV.databaseUrl], message: `is required, or ${ENV.dbHost} with one of ${ENV.dbSecretArn} and ${ENV.dbIamUser}` },
);

/** The cluster and its master secret, for the Data API (the IAM login's bootstrap). */
export const DataApi = z
  .object({ [ENV.clusterArn]: z.string().startsWith('arn:'), [ENV.clusterSecretArn]: z.string().startsWith('arn:'), [ENV.dbName]: z.string().min(1).default('tracker') })
  .transform((env) => ({ resourceArn: env[ENV.clusterArn], secretArn: env[ENV.clusterSecretArn], database: env[ENV.dbName] }));

export const Auth = z
  .object({ [ENV.jwtSecret]: secret.optional(), [ENV.jwksUrl]: z.url().optional(), [ENV.jwtIssuer]: optionalText, [ENV.jwtAudience]: optionalText })
  // Several app clients (the API's, the dashboard's) issue tokens for the same API: a comma-separated list.
  .transform((env) => ({ jwtSecret: env[ENV.jwtSecret], jwksUrl: env[ENV.jwksUrl], issuer: env[ENV.jwtIssuer], audience: env[ENV.jwtAudience]?.split(',').map((client) => client.trim()) }));

/** Token buckets of one second: a tenant may burst to its per-second rate, then keeps to it. */
export const RateLimits = z
  .object({
    [ENV.tenantRateLimitRps]: positiveInt(100),
    // A bucket smaller than one full batch would refuse every full batch, however slow.
    [ENV.tenantRateLimitEvents]: z.coerce.number().int().min(MAX_BATCH_EVENTS, `must be at least ${MAX_BATCH_EVENTS}, one full batch`).default(10_000),
  })
  .transform(({ [ENV.tenantRateLimitRps]: requests, [ENV.tenantRateLimitEvents]: events }): TenantRateLimits => ({
    requests: { ratePerSecond: requests, burst: requests },
    events: { ratePerSecond: events, burst: events },
  }));

export const Dynamo = z
  .object({
    // Unset in AWS (the regional endpoint) and locally (embedded dynalite).
    [ENV.dynamodbEndpoint]: z.url().optional(),
    [ENV.countersTable]: z.string().min(3).default('tracker-counters'),
    [ENV.writeKeysTable]: z.string().min(3).default('tracker-write-keys'),
  })
  .transform((env) => ({ endpoint: env[ENV.dynamodbEndpoint], countersTable: env[ENV.countersTable], writeKeysTable: env[ENV.writeKeysTable] }));

/**
 * The live counters in DynamoDB: the writer and the counters route must agree on both. More
 * shards spread a busy tenant's writes over more partition keys, and cost a read one query
 * each; lowering the number hides the higher shards' counters from reads until they expire.
 */
export const LiveCounters = z
  .object({
    [ENV.liveCounterShards]: z.coerce.number().int().min(1).max(64).default(8),
    // Also the longest window a read may ask for; DynamoDB removes the counters after it.
    [ENV.liveCounterTtlHours]: z.coerce.number().int().min(1).max(48).default(6),
  })
  .transform((env): LiveCounterSettings => ({ shards: env[ENV.liveCounterShards], ttlHours: env[ENV.liveCounterTtlHours] }));

/** What the maintenance job keeps: events (then archived), and rollups (pruned on their own cut-off). */
export const Retention = z
  .object({
    [ENV.eventRetentionDays]: retentionDays,
    [ENV.rollupRetentionDays]: positiveInt(365),
    // Tenants that keep their events for less than the deployment does: `{"<tenant uuid>": <days>}`.
    [ENV.tenantEventRetention]: jsonObject.pipe(z.record(z.uuid(), retentionDayCount)),
  })
  .transform((env) => ({
    eventRetentionDays: env[ENV.eventRetentionDays],
    rollupRetentionDays: env[ENV.rollupRetentionDays],
    tenantEventDays: env[ENV.tenantEventRetention],
  }))
  // Shorter would delete the rollups of events still kept, and the reads would count fewer than remain.
  .refine((retention) => retention.rollupRetentionDays >= retention.eventRetentionDays, {
    path: [ENV.rollupRetentionDays],
    message: `must be at least ${ENV.eventRetentionDays}`,
  })
  .refine(({ eventRetentionDays, tenantEventDays }) => Object.values(tenantEventDays).every((days) => days <= eventRetentionDays), {
    path: [ENV.tenantEventRetention],
    message: `gives a tenant more days than ${ENV.eventRetentionDays}`,
  });

/**
 * How hard the maintenance job works beside the live traffic: the share of the wall clock it
 * spends on its pages and batches, resting in between; 1 works flat out. At 0.5 the traffic's
 * p95 beside a 1,000,000-event month was 1.50x (ingest) and 1.68x (query) its idle p95 on a
 * quiet machine; at 0.25, 1.33x and 1.20x, the whole job 89 s (docs/benchmarks.md, Retention).
 */
export const Maintenance = z
  .object({ [ENV.maintenanceDutyCycle]: z.coerce.number().gt(0).max(1).default(0.25) })
  .transform((env) => ({ dutyCycle: env[ENV.maintenanceDutyCycle] }));

/** Where expired partitions go: the S3 bucket in AWS, a folder locally (default DATA_DIR/archive). */
export const Archive = z
  .object({
    [ENV.archiveBucket]: optionalText,
    [ENV.archiveDir]: optionalText,
    [ENV.dataDir]: z.string().min(1).default('.data'),
  })
  .transform((env) => ({ bucket: env[ENV.archiveBucket], dir: env[ENV.archiveDir] ?? join(env[ENV.dataDir], 'archive') }));

/** The local live stream (`/v1/stream`): heartbeat, resume buffer, per-subscriber bound. */
export const LiveStream = z
  .object({
    [ENV.streamHeartbeatMs]: positiveInt(30_000),
    [ENV.streamRecentEvents]: positiveInt(1_000),
    [ENV.streamResumeWindowMs]: positiveInt(300_000),
    [ENV.streamSubscriberBufferBytes]: positiveInt(1024 * 1024),
  })
  .transform((env) => ({
    heartbeatMs: env[ENV.streamHeartbeatMs],
    recentEventsPerTenant: env[ENV.streamRecentEvents],
    resumeWindowMs: env[ENV.streamResumeWindowMs],
    subscriberBufferBytes: env[ENV.streamSubscriberBufferBytes],
  }));

/** The writer's side of the stream: whom to stream (the connections) and where to put their events. */
export const AwsStreamOutbox = z
  .object({ [ENV.streamConnectionsTable]: z.string().min(3), [ENV.streamOutboxTable]: z.string().min(3) })
  .transform((env) => ({ connectionsTable: env[ENV.streamConnectionsTable], outboxTable: env[ENV.streamOutboxTable] }));

/** The fan-out function: the WebSocket API's connections and the management endpoint it posts to. */
export const AwsStream = z
  .object({ [ENV.streamConnectionsTable]: z.string().min(3), [ENV.streamEndpoint]: z.url() })
  .transform((env) => ({ connectionsTable: env[ENV.streamConnectionsTable], endpoint: env[ENV.streamEndpoint] }));

/** The `$default` route's function: the connections, the management endpoint, and the function that reads a replay. */
export const AwsStreamFrames = z
  .object({ [ENV.streamConnectionsTable]: z.string().min(3), [ENV.streamEndpoint]: z.url(), [ENV.streamReplayFunction]: z.string().min(1) })
  .transform((env) => ({ connectionsTable: env[ENV.streamConnectionsTable], endpoint: env[ENV.streamEndpoint], replayFunction: env[ENV.streamReplayFunction] }));

/** The `$connect` and `$disconnect` functions know the table only. */
export const AwsStreamConnections = z
  .object({ [ENV.streamConnectionsTable]: z.string().min(3) })
  .transform((env) => ({ connectionsTable: env[ENV.streamConnectionsTable] }));

const LocalRuntime = z
  .object({
    [ENV.port]: z.coerce.number().int().min(0).max(65535).default(3000),
    [ENV.dataDir]: z.string().min(1).default('.data'),
    // The defaults of an SQS event source: 10 records, no batching window beyond 100 ms.
    [ENV.writerBatchSize]: positiveInt(10),
    [ENV.writerBatchWindowMs]: z.coerce.number().int().min(0).default(100),
    [ENV.queueMaxReceiveCount]: positiveInt(5),
    [ENV.queueVisibilityTimeoutMs]: positiveInt(30_000),
    [ENV.maintenanceIntervalMs]: positiveInt(3_600_000),
  })
  .transform((env) => ({
    port: env[ENV.port],
    dataDir: env[ENV.dataDir],
    queue: {
      batchSize: env[ENV.writerBatchSize],
      batchWindowMs: env[ENV.writerBatchWindowMs],
      maxReceiveCount: env[ENV.queueMaxReceiveCount],
      visibilityTimeoutMs: env[ENV.queueVisibilityTimeoutMs],
    },
    maintenanceIntervalMs: env[ENV.maintenanceIntervalMs],
  }));

/**
 * The local dashboard signs in at a Cognito hosted UI when both are set (its app client must
 * list `http://localhost:<port>/callback`; verify its tokens with JWKS_URL); a pasted token otherwise.
 */
const DashboardSignIn = z
  .object({ [ENV.dashboardHostedUi]: z.url().optional(), [ENV.dashboardClientId]: optionalText })
  .refine((env) => (env[ENV.dashboardHostedUi] === undefined) === (env[ENV.dashboardClientId] === undefined), {
    path: [ENV.dashboardClientId],
    message: `is set together with ${ENV.dashboardHostedUi}, or neither is`,
  })
  .transform((env) => {
    const hostedUi = env[ENV.dashboardHostedUi];
    const clientId = env[ENV.dashboardClientId];
    return { dashboardSignIn: hostedUi && clientId ? { hostedUi: new URL(hostedUi).origin, clientId } : undefined };
  });

export type IngestConfig = z.output<typeof Ingest>;
export type DatabaseConfig = z.output<typeof Database>;
/** Every key may be unset, so a caller (a test, the local runtime) names only those it sets. */
export type AuthConfig = Partial<z.output<typeof Auth>>;
export type DynamoConfig = z.output<typeof Dynamo>;

/** Parses the named sections of one environment together, so that one start names every bad key. */
export function loadConfig<Sections extends Record<string, z.ZodType>>(sections: Sections, env: NodeJS.ProcessEnv = process.env): z.output<z.ZodObject<Sections>> {
  // Empty strings count as unset: a blank line in an env file must not become a value.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = z.object(sections).safeParse(Object.fromEntries(Object.keys(sections).map((name) => [name, present])));
  if (!result.success) {
    // Each section reads the whole environment: the key is what to fix, not the section's name.
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.slice(1).join('.')}: ${issue.message}`));
  }
  return result.data;
}

export function loadHttpConfig(env: NodeJS.ProcessEnv = process.env): { corsOrigins: string[] } {
  return loadConfig({ http: Http }, env).http;
}

/** The whole local runtime's settings. */
export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env) {
  const { http, runtime, dashboard, ...sections } = loadConfig({ http: Http, rateLimits: RateLimits, dynamo: Dynamo, liveCounters: LiveCounters, ingest: Ingest, database: Database, auth: Auth, retention: Retention, maintenance: Maintenance, archive: Archive, stream: LiveStream, runtime: LocalRuntime, dashboard: DashboardSignIn }, env);
  return { ...http, ...sections, ...runtime, ...dashboard };
}

export type LocalConfig = Omit<ReturnType<typeof loadLocalConfig>, 'auth'> & { auth: AuthConfig };
