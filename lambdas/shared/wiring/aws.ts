import { SQSClient } from '@aws-sdk/client-sqs';
import { loadDatabaseConfig, loadIngestConfig } from '../config.js';
import { PgEventStore } from '../adapters/pg/pg-event-store.js';
import { openDatabase, type SqlDatabase } from '../adapters/pg/sql-database.js';
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

export async function awsEventStore(): Promise<PgEventStore> {
  const config = loadDatabaseConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required in AWS.');
  database ??= openDatabase({ databaseUrl: config.databaseUrl, poolSize: config.poolSize });
  return new PgEventStore(await database);
}
