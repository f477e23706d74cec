import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Signer } from '@aws-sdk/rds-signer';
import { Auth, AwsArchive, AwsDatabase, AwsIngest, AwsStream, AwsStreamConnections, AwsStreamOutbox, AwsStreamFrames, Dynamo, LiveCounters, loadConfig, loadHttpConfig, Maintenance, Query, RateLimits, Retention } from '../config.js';
import { ManagementApiMessenger } from '../adapters/apigateway/management-api-messenger.js';
import { DynamoLiveCounters } from '../adapters/dynamodb/dynamo-live-counters.js';
import { DynamoStreamConnections } from '../adapters/dynamodb/dynamo-stream-connections.js';
import { DynamoStreamOutbox } from '../adapters/dynamodb/dynamo-stream-outbox.js';
import { DynamoRateLimiter } from '../adapters/dynamodb/dynamo-rate-limiter.js';
import { DynamoWriteKeyStore } from '../adapters/dynamodb/dynamo-write-key-store.js';
import type { HttpSettings } from '../adapters/http/api-gateway.js';
import { createTokenVerifier, type TokenVerifier } from '../adapters/jwt/jose-token-verifier.js';
import { PgEventAdmin } from '../adapters/pg/pg-event-admin.js';
import { PgEventQueries } from '../adapters/pg/pg-event-queries.js';
import { PgCounterOutbox } from '../adapters/pg/pg-counter-outbox.js';
import { PgEventStore } from '../adapters/pg/pg-event-store.js';
import { PgEventSets } from '../adapters/pg/pg-event-sets.js';
import { PgRetentionStore } from '../adapters/pg/pg-retention-store.js';
import { openDatabase, type SqlDatabase } from '../adapters/pg/sql-database.js';
import { ARCHIVE_S3_CLIENT_CONFIG, S3EventArchive } from '../adapters/s3/s3-event-archive.js';
import { readDatabaseCredentials, readSecretText } from '../adapters/secrets/secrets-manager.js';
import { SqsEventQueue } from '../adapters/sqs/sqs-event-queue.js';
import { InvokedStreamReplay } from '../adapters/lambda/invoked-stream-replay.js';
import { PgStreamReplay } from '../adapters/pg/pg-stream-replay.js';
import type { LiveCounterSettings } from '../domain/live-counters.js';
import type { RetentionSettings } from '../domain/retention-plan.js';
import type { EventArchive } from '../ports/event-archive.js';
import { LiveCounterFlusher } from '../use-cases/flush-live-counters.js';
import type { QuerySettings } from '../use-cases/query-events.js';
import type { StreamFrameDeps } from '../use-cases/answer-stream-frame.js';
import type { FanOutDeps } from '../use-cases/fan-out-stored-events.js';
import type { MaintenanceDeps } from '../use-cases/run-maintenance.js';
import { dutyCyclePacer } from '../duty-cycle.js';
import type { TrackDeps } from '../use-cases/track-events.js';

let dynamo: DynamoDBClient | undefined;

function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient({});
  return dynamo;
}

/**
 * Per-tenant buckets in the counters table, shared by every container of every function. Its
 * own client: one attempt, because `tat + :increment` is not idempotent and a retried update
 * could charge twice; and a short timeout, because the check sits on every request's path.
 */
export function awsRateLimiter(): DynamoRateLimiter {
  const client = new DynamoDBClient({ maxAttempts: 1, requestHandler: { connectionTimeout: 200, requestTimeout: 300 } });
  const { dynamo, rateLimits } = loadConfig({ dynamo: Dynamo, rateLimits: RateLimits });
  return new DynamoRateLimiter(client, dynamo.countersTable, rateLimits);
}

/**
 * The live counters. Their own client: short timeouts, since a DynamoDB that does not answer
 * must not hold up the writer's next delivery; retries are safe, every update is conditional.
 */
export function awsLiveCounterStore(): DynamoLiveCounters {
  const client = new DynamoDBClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 500, requestTimeout: 1000 } });
  const { dynamo, liveCounters } = loadConfig({ dynamo: Dynamo, liveCounters: LiveCounters });
  return new DynamoLiveCounters(client, dynamo.countersTable, liveCounters);
}

export function awsLiveCounterSettings(): LiveCounterSettings {
  return loadConfig({ liveCounters: LiveCounters }).liveCounters;
}

/** The writer's flush of its counter deltas, from the outbox in Aurora to DynamoDB. */
export async function awsCounterFlusher(): Promise<LiveCounterFlusher> {
  return new LiveCounterFlusher(new PgCounterOutbox(await awsDatabase()), awsLiveCounterStore(), awsLiveCounterSettings());
}

export function awsWriteKeyStore(): DynamoWriteKeyStore {
  return new DynamoWriteKeyStore(dynamoClient(), loadConfig({ dynamo: Dynamo }).dynamo.writeKeysTable);
}

/** Adapters for the deployed functions, built once per container by their lazy handlers. */
export async function awsTrackDeps(): Promise<TrackDeps> {
  const config = loadConfig({ ingest: AwsIngest }).ingest;
  const hashSecret = config.pii.hashSecret ?? (config.piiHashSecretArn ? await readSecretText(new SecretsManagerClient({}), config.piiHashSecretArn) : undefined);
  return {
    queue: new SqsEventQueue(new SQSClient({}), config.eventsQueueUrl, { maxMessageBytes: config.sqsMaxMessageBytes }),
    limiter: awsRateLimiter(),
    ingest: { ...config, pii: { ...config.pii, hashSecret } },
  };
}

let database: Promise<SqlDatabase> | undefined;

const AURORA_PORT = 5432;

async function connect(): Promise<SqlDatabase> {
  const config = loadConfig({ database: AwsDatabase }).database;
  const pool = { poolSize: config.poolSize, connectWait: { waitMs: config.connectWaitMs } };
  if (config.databaseUrl !== undefined) return openDatabase({ databaseUrl: config.databaseUrl, ...pool });
  if (config.iamUser !== undefined) {
    // A token per new connection (valid 15 minutes; pg asks for the password on every connect).
    // Aurora's certificate is signed by the RDS CA, which Node trusts through
    // NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem (set by the stack).
    const signer = new Signer({ hostname: config.host, port: AURORA_PORT, username: config.iamUser });
    return openDatabase({
      connection: { host: config.host, port: AURORA_PORT, database: config.name, user: config.iamUser, password: () => signer.getAuthToken(), ssl: { rejectUnauthorized: true } },
      ...pool,
    });
  }
  const { username, password } = await readDatabaseCredentials(new SecretsManagerClient({}), config.secretArn);
  return openDatabase({
    // RDS Proxy presents an ACM certificate, which Node's default trust store verifies.
    connection: { host: config.host, database: config.name, user: username, password, ssl: { rejectUnauthorized: true } },
    ...pool,
  });
}

/** One pool per container, shared by whatever the function needs. */
export function awsDatabase(): Promise<SqlDatabase> {
  database ??= connect().catch((error: unknown) => {
    database = undefined;
    throw error;
  });
  return database;
}

export async function awsEventStore(): Promise<PgEventStore> {
  return new PgEventStore(await awsDatabase());
}

export async function awsEventQueries(): Promise<PgEventQueries> {
  return new PgEventQueries(await awsDatabase());
}

export async function awsEventAdmin(): Promise<PgEventAdmin> {
  return new PgEventAdmin(await awsDatabase());
}


/** The archive bucket of the stage, for the maintenance function. */
export function awsEventArchive(): EventArchive {
  return new S3EventArchive(new S3Client(ARCHIVE_S3_CLIENT_CONFIG), loadConfig({ archive: AwsArchive }).archive.bucket);
}

/** The retention job: the stage's database and archive bucket, what it keeps, and how hard it works beside the traffic. */
export async function awsMaintenanceDeps(): Promise<MaintenanceDeps> {
  const { retention, maintenance } = loadConfig({ retention: Retention, maintenance: Maintenance });
  const pace = dutyCyclePacer(maintenance.dutyCycle);
  const db = await awsDatabase();
  return { store: new PgRetentionStore(db, { pace }), sets: new PgEventSets(db), archive: awsEventArchive(), settings: retention, pace };
}

/** The query functions refuse ranges longer than the retention. */
export function awsQuerySettings(): QuerySettings {
  return loadConfig({ query: Query }).query;
}

/** The retention route reads the settings the maintenance job runs with. */
export function awsRetentionSettings(): RetentionSettings {
  return loadConfig({ retention: Retention }).retention;
}

/** Every route: the CORS origins the function answers real requests for. */
export function awsHttpSettings(): HttpSettings {
  return loadHttpConfig();
}

/** Every route with a caller: its settings and the tenant rate buckets. */
export function awsCallerPorts(): { limiter: DynamoRateLimiter; http: HttpSettings } {
  return { limiter: awsRateLimiter(), http: awsHttpSettings() };
}

export function awsTokenVerifier(): TokenVerifier {
  return createTokenVerifier(loadConfig({ auth: Auth }).auth);
}

/** `$connect` and `$disconnect`: the WebSocket API's connections table. */
export function awsStreamConnections(): DynamoStreamConnections {
  return new DynamoStreamConnections(dynamoClient(), loadConfig({ stream: AwsStreamConnections }).stream.connectionsTable);
}

/**
 * The writer's hand-off to the stream: the connections lookup and the outbox puts, through the
 * DynamoDB gateway endpoint. Short timeouts and one retry: the stream is best effort, and the
 * writer's wait on it is bounded anyway (`write-queued-events.ts`).
 */
export function awsStoredEventPublisher(): DynamoStreamOutbox {
  const { stream } = loadConfig({ stream: AwsStreamOutbox });
  const client = new DynamoDBClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 200, requestTimeout: 500 } });
  return new DynamoStreamOutbox(new DynamoStreamConnections(client, stream.connectionsTable), client, stream.outboxTable);
}

/** `fan-out-stored-events`, outside the VPC: the connections and the management endpoint. */
export function awsFanOutDeps(): FanOutDeps {
  const { stream } = loadConfig({ stream: AwsStream });
  return {
    connections: new DynamoStreamConnections(dynamoClient(), stream.connectionsTable),
    messenger: new ManagementApiMessenger(new ApiGatewayManagementApiClient({ endpoint: stream.endpoint })),
  };
}

/** The `$default` route: the connection's row, the replay read by the VPC function, posts and closes. */
export function awsStreamFrameDeps(): StreamFrameDeps {
  const { stream } = loadConfig({ stream: AwsStreamFrames });
  return {
    connections: new DynamoStreamConnections(dynamoClient(), stream.connectionsTable),
    replay: new InvokedStreamReplay(new LambdaClient({}), stream.replayFunction),
    messenger: new ManagementApiMessenger(new ApiGatewayManagementApiClient({ endpoint: stream.endpoint })),
  };
}

/** `read-stream-replay`, in the VPC: the events a resuming subscriber missed. */
export async function awsStreamReplaySource(): Promise<PgStreamReplay> {
  return new PgStreamReplay(await awsDatabase());
}
