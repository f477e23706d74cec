import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { piiPolicyFor } from '../../../../lambdas/shared/domain/pii-masking.js';
import { DynamoStreamOutbox } from '../../../../lambdas/shared/adapters/dynamodb/dynamo-stream-outbox.js';
import { awsDatabase, awsEventArchive, awsStoredEventPublisher, awsTrackDeps } from '../../../../lambdas/shared/wiring/aws.js';
import { TENANT_A } from '../../../support/factories.js';

const secrets = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pii-hash-AbCdEf';

beforeEach(() => {
  secrets.reset();
  vi.stubEnv('EVENTS_QUEUE_URL', 'https://sqs.eu-west-1.amazonaws.com/123456789012/events');
  vi.stubEnv('COUNTERS_TABLE', 'counters');
  vi.stubEnv('PII_MODE', 'hash');
  vi.stubEnv('PII_HASH_SECRET_ARN', SECRET_ARN);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('awsTrackDeps', () => {
  it('reads the PII hash secret from Secrets Manager at cold start and hashes with it', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: 'x'.repeat(64) });

    const deps = await awsTrackDeps();

    expect(deps.ingest.pii.hashSecret).toBe('x'.repeat(64));
    expect(piiPolicyFor(deps.ingest.pii, TENANT_A).hashKey).toBeInstanceOf(Buffer);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('fails the cold start when the secret cannot be read, instead of masking another way', async () => {
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    await expect(awsTrackDeps()).rejects.toThrow('AccessDeniedException');
  });

  it('fails the cold start naming EVENTS_QUEUE_URL when it is unset', async () => {
    vi.stubEnv('EVENTS_QUEUE_URL', '');
    await expect(awsTrackDeps()).rejects.toThrow(/EVENTS_QUEUE_URL: is required in AWS/);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});

describe('awsDatabase', () => {
  it('fails naming DATABASE_URL, DB_HOST, DB_SECRET_ARN and DB_IAM_USER when it has a secret but no proxy host nor URL', async () => {
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('DB_HOST', '');
    vi.stubEnv('DB_SECRET_ARN', SECRET_ARN);
    await expect(awsDatabase()).rejects.toThrow(/DATABASE_URL: is required, or DB_HOST with one of DB_SECRET_ARN and DB_IAM_USER/);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('refuses both a secret and an IAM user: the stack sets one', async () => {
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('DB_HOST', 'cluster.example');
    vi.stubEnv('DB_SECRET_ARN', SECRET_ARN);
    vi.stubEnv('DB_IAM_USER', 'tracker_service');
    await expect(awsDatabase()).rejects.toThrow(/DATABASE_URL: is required/);
  });

  it('opens the IAM login without reading any secret (a token is signed per connection, on connect)', async () => {
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('DB_HOST', 'cluster.example');
    vi.stubEnv('DB_IAM_USER', 'tracker_service');
    const database = await awsDatabase();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    await database.close();
  });
});

describe('awsEventArchive', () => {
  const s3 = mockClient(S3Client);

  beforeEach(() => {
    s3.reset();
  });

  it('archives to the bucket ARCHIVE_BUCKET names', async () => {
    vi.stubEnv('ARCHIVE_BUCKET', 'eventtracker-prod-archive');
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'events/2026-01/manifest.json' }] });

    expect(await awsEventArchive().list('events/2026-01/')).toEqual(['events/2026-01/manifest.json']);
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input.Bucket).toBe('eventtracker-prod-archive');
  });

  it('fails the cold start naming ARCHIVE_BUCKET when it is unset', () => {
    expect(() => awsEventArchive()).toThrow(/ARCHIVE_BUCKET: is required in AWS/);
  });
});

describe('awsStoredEventPublisher', () => {
  it('is the outbox writer: it needs the connections and outbox tables, not the management endpoint the VPC cannot reach', () => {
    vi.stubEnv('STREAM_CONNECTIONS_TABLE', 'connections');
    vi.stubEnv('STREAM_OUTBOX_TABLE', 'outbox');
    vi.stubEnv('STREAM_ENDPOINT', '');
    expect(awsStoredEventPublisher()).toBeInstanceOf(DynamoStreamOutbox);
    vi.stubEnv('STREAM_OUTBOX_TABLE', '');
    expect(() => awsStoredEventPublisher()).toThrow(/STREAM_OUTBOX_TABLE/);
  });
});
