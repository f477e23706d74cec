import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadDatabaseConfig, loadIngestConfig } from '../config.js';
import { PgEventStore } from '../adapters/pg/pg-event-store.js';
import { openDatabase, type SqlDatabase } from '../adapters/pg/sql-database.js';
import { readDatabaseCredentials } from '../adapters/secrets/database-credentials.js';
import { SqsEventQueue } from '../adapters/sqs/sqs-event-queue.js';
import type { TrackDeps } from '../use-cases/track-events.js';

/** Adapters for the deployed functions, built once per container by their lazy handlers. */
export function awsTrackDeps(): TrackDeps {
  const config = loadIngestConfig();
  if (!config.eventsQueueUrl) throw new Error('EVENTS_QUEUE_URL is required in AWS.');
  return {
    queue: new SqsEventQueue(new SQSClient({}), config.eventsQueueUrl, { maxMessageBytes: config.sqsMaxMessageBytes }),
    settings: config,
  };
}

let database: Promise<SqlDatabase> | undefined;

async function connect(): Promise<SqlDatabase> {
  const config = loadDatabaseConfig();
  if (config.databaseUrl) return openDatabase({ databaseUrl: config.databaseUrl, poolSize: config.poolSize });
  if (!config.secretArn || !config.host) throw new Error('Set DATABASE_URL, or DB_SECRET_ARN and DB_HOST.');
  const { username, password } = await readDatabaseCredentials(new SecretsManagerClient({}), config.secretArn);
  return openDatabase({
    // RDS Proxy presents an ACM certificate, which Node's default trust store verifies.
    connection: { host: config.host, database: config.name, user: username, password, ssl: { rejectUnauthorized: true } },
    poolSize: config.poolSize,
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
