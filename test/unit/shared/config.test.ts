import { describe, expect, it } from 'vitest';
import { Archive, AwsArchive, AwsDatabase, AwsIngest, ConfigError, loadConfig, loadLocalConfig, Maintenance, Query, Retention } from '../../../lambdas/shared/config.js';
import { MAX_RETENTION_DAYS } from '../../../lambdas/shared/domain/limits.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/events';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf';

describe('loadLocalConfig', () => {
  it('has working defaults for an empty environment', () => {
    const config = loadLocalConfig({});
    expect(config.port).toBe(3000);
    expect(config.ingest.pii).toEqual({ deployment: { detectors: ['email', 'iban', 'card', 'phone', 'sensitiveKeys', 'ip'], mode: 'redact' }, tenants: {}, hashSecret: undefined });
    expect(config.rateLimits).toEqual({ requests: { ratePerSecond: 100, burst: 100 }, events: { ratePerSecond: 10_000, burst: 10_000 } });
    expect(config.queue).toEqual({ batchSize: 10, batchWindowMs: 100, maxReceiveCount: 5, visibilityTimeoutMs: 30_000 });
  });

  it('names every bad key at once', () => {
    let error: unknown;
    try {
      loadLocalConfig({
        PORT: 'eighty',
        PII_DETECTORS: 'email,retina',
        JWT_SECRET: 'short',
        EVENTS_QUEUE_URL: 'not a url',
        TENANT_RATE_LIMIT_EVENTS: '500',
        PII_TENANT_POLICIES: '{"not-a-tenant": {"detectors": [], "mode": "hash"}}',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const key of ['PORT', 'PII_DETECTORS', 'JWT_SECRET', 'EVENTS_QUEUE_URL', 'TENANT_RATE_LIMIT_EVENTS', 'PII_TENANT_POLICIES']) expect(message).toContain(key);
  });

  it('signs the dashboard in at a hosted UI only when both its origin and client id are set', () => {
    expect(loadLocalConfig({}).dashboardSignIn).toBeUndefined();
    expect(loadLocalConfig({ DASHBOARD_HOSTED_UI: 'https://p.auth.eu-west-1.amazoncognito.com/', DASHBOARD_CLIENT_ID: 'client' }).dashboardSignIn).toEqual({ hostedUi: 'https://p.auth.eu-west-1.amazoncognito.com', clientId: 'client' });
    expect(() => loadLocalConfig({ DASHBOARD_HOSTED_UI: 'https://p.auth.eu-west-1.amazoncognito.com' })).toThrow(/DASHBOARD_CLIENT_ID: is set together with DASHBOARD_HOSTED_UI/);
    expect(() => loadLocalConfig({ DASHBOARD_HOSTED_UI: 'not a url', DASHBOARD_CLIENT_ID: 'client' })).toThrow(/DASHBOARD_HOSTED_UI/);
  });

  it('reads tenant PII rules, and refuses hashing without a secret', () => {
    const tenant = '0b9a5a52-6f0e-4c4e-9a51-0d6f2f1b7c11';
    const policies = JSON.stringify({ [tenant]: { detectors: ['email'], mode: 'hash' } });
    expect(() => loadLocalConfig({ PII_TENANT_POLICIES: policies })).toThrow(/PII_HASH_SECRET: is required/);
    expect(() => loadLocalConfig({ PII_MODE: 'hash' })).toThrow(/PII_HASH_SECRET: is required/);
    const config = loadLocalConfig({ PII_TENANT_POLICIES: policies, PII_HASH_SECRET: 'a-deployment-secret-of-32-characters!' });
    expect(config.ingest.pii.tenants).toEqual({ [tenant]: { detectors: ['email'], mode: 'hash' } });
  });

  it('counts empty strings as unset', () => {
    const config = loadLocalConfig({ PORT: '', DATABASE_URL: '' });
    expect(config.port).toBe(3000);
    expect(config.database.databaseUrl).toBeUndefined();
  });

  it('names the keys a rule refuses together with the keys of other sections', () => {
    const start = () => loadLocalConfig({ PORT: 'eighty', PII_MODE: 'hash' });
    expect(start).toThrow(/PORT: /);
    expect(start).toThrow(/PII_HASH_SECRET: is required/);
  });
});

describe('the AWS sections', () => {
  it('require EVENTS_QUEUE_URL, which the local runtime does without', () => {
    expect(() => loadConfig({ ingest: AwsIngest }, {})).toThrow(/EVENTS_QUEUE_URL: is required in AWS/);
    expect(loadConfig({ ingest: AwsIngest }, { EVENTS_QUEUE_URL: QUEUE_URL }).ingest.eventsQueueUrl).toBe(QUEUE_URL);
    expect(loadLocalConfig({}).ingest.eventsQueueUrl).toBeUndefined();
  });

  it('accept PII_HASH_SECRET_ARN instead of PII_HASH_SECRET for hashing, and refuse neither', () => {
    expect(() => loadConfig({ ingest: AwsIngest }, { EVENTS_QUEUE_URL: QUEUE_URL, PII_MODE: 'hash' })).toThrow(/PII_HASH_SECRET: is required/);
    const { ingest } = loadConfig({ ingest: AwsIngest }, { EVENTS_QUEUE_URL: QUEUE_URL, PII_MODE: 'hash', PII_HASH_SECRET_ARN: SECRET_ARN });
    expect(ingest.piiHashSecretArn).toBe(SECRET_ARN);
  });

  it('require DATABASE_URL, or DB_HOST with one of DB_SECRET_ARN and DB_IAM_USER, which the local runtime does without', () => {
    for (const env of [{}, { DB_SECRET_ARN: SECRET_ARN }, { DB_HOST: 'proxy.local' }, { DB_IAM_USER: 'tracker_service' }, { DB_HOST: 'cluster.local', DB_SECRET_ARN: SECRET_ARN, DB_IAM_USER: 'tracker_service' }]) {
      expect(() => loadConfig({ database: AwsDatabase }, env)).toThrow(/DATABASE_URL: is required, or DB_HOST with one of DB_SECRET_ARN and DB_IAM_USER/);
    }
    expect(loadConfig({ database: AwsDatabase }, { DB_IAM_USER: 'tracker_service', DB_HOST: 'cluster.local', DB_CONNECT_WAIT_MS: '5000' }).database).toMatchObject({ iamUser: 'tracker_service', host: 'cluster.local', connectWaitMs: 5000 });
    expect(loadConfig({ database: AwsDatabase }, { DATABASE_URL: 'postgres://db.local/tracker' }).database.databaseUrl).toBe('postgres://db.local/tracker');
    expect(loadConfig({ database: AwsDatabase }, { DB_SECRET_ARN: SECRET_ARN, DB_HOST: 'proxy.local' }).database).toMatchObject({ secretArn: SECRET_ARN, host: 'proxy.local' });
    expect(loadLocalConfig({}).database.databaseUrl).toBeUndefined();
  });

  it('require ARCHIVE_BUCKET, a bucket name, which the local runtime does without', () => {
    expect(() => loadConfig({ archive: AwsArchive }, {})).toThrow(/ARCHIVE_BUCKET: is required in AWS/);
    expect(() => loadConfig({ archive: AwsArchive }, { ARCHIVE_BUCKET: 's3://Tracker_Archive' })).toThrow(/ARCHIVE_BUCKET: must be an S3 bucket name/);
    expect(loadConfig({ archive: AwsArchive }, { ARCHIVE_BUCKET: 'eventtracker-prod-archive-1a2b3c' }).archive).toEqual({ bucket: 'eventtracker-prod-archive-1a2b3c' });
  });
});

describe('retention settings', () => {
  const TENANT = '0b9a5a52-6f0e-4c4e-9a51-0d6f2f1b7c11';

  it('refuse an EVENT_RETENTION_DAYS longer than one queue message\'s months allow', () => {
    expect(loadConfig({ query: Query }, { EVENT_RETENTION_DAYS: String(MAX_RETENTION_DAYS) }).query.eventRetentionDays).toBe(MAX_RETENTION_DAYS);
    expect(() => loadConfig({ query: Query }, { EVENT_RETENTION_DAYS: String(MAX_RETENTION_DAYS + 1) })).toThrow(/EVENT_RETENTION_DAYS: /);
    expect(() => loadLocalConfig({ EVENT_RETENTION_DAYS: String(MAX_RETENTION_DAYS + 1) })).toThrow(/EVENT_RETENTION_DAYS: /);
  });

  it('read tenants with a shorter event retention, and no tenant when TENANT_EVENT_RETENTION is unset', () => {
    expect(loadConfig({ retention: Retention }, {}).retention).toEqual({ eventRetentionDays: 90, rollupRetentionDays: 365, tenantEventDays: {} });
    const { retention } = loadConfig({ retention: Retention }, { EVENT_RETENTION_DAYS: '90', TENANT_EVENT_RETENTION: JSON.stringify({ [TENANT]: 30 }) });
    expect(retention.tenantEventDays).toEqual({ [TENANT]: 30 });
    expect(loadLocalConfig({ TENANT_EVENT_RETENTION: JSON.stringify({ [TENANT]: 30 }) }).retention.tenantEventDays).toEqual({ [TENANT]: 30 });
  });

  it('refuse a tenant retention longer than EVENT_RETENTION_DAYS, not a tenant id, or not JSON', () => {
    const load = (value: string) => () => loadConfig({ retention: Retention }, { EVENT_RETENTION_DAYS: '90', TENANT_EVENT_RETENTION: value });
    expect(load(JSON.stringify({ [TENANT]: 91 }))).toThrow(/TENANT_EVENT_RETENTION: gives a tenant more days than EVENT_RETENTION_DAYS/);
    expect(load(JSON.stringify({ 'tenant-a': 30 }))).toThrow(/TENANT_EVENT_RETENTION/);
    expect(load(JSON.stringify({ [TENANT]: 0 }))).toThrow(/TENANT_EVENT_RETENTION/);
    expect(load('{30')).toThrow(/TENANT_EVENT_RETENTION: is not JSON/);
  });
});

describe('the maintenance settings', () => {
  it('keep events 90 days, rollups 365, archive to DATA_DIR/archive and run the job hourly by default', () => {
    const config = loadLocalConfig({ DATA_DIR: '/var/tracker' });

    expect(config.retention).toEqual({ eventRetentionDays: 90, rollupRetentionDays: 365, tenantEventDays: {} });
    expect(config.archive).toEqual({ bucket: undefined, dir: '/var/tracker/archive' });
    expect(config.maintenanceIntervalMs).toBe(3_600_000);
    expect(config.maintenance).toEqual({ dutyCycle: 0.25 });
  });

  it('take a duty cycle in (0, 1] and refuse one outside it', () => {
    expect(loadConfig({ maintenance: Maintenance }, { MAINTENANCE_DUTY_CYCLE: '1' }).maintenance).toEqual({ dutyCycle: 1 });
    expect(loadConfig({ maintenance: Maintenance }, { MAINTENANCE_DUTY_CYCLE: '0.25' }).maintenance).toEqual({ dutyCycle: 0.25 });
    for (const bad of ['0', '1.5', 'half']) expect(() => loadConfig({ maintenance: Maintenance }, { MAINTENANCE_DUTY_CYCLE: bad })).toThrow(/MAINTENANCE_DUTY_CYCLE/);
  });

  it('take ARCHIVE_DIR over the data folder and ARCHIVE_BUCKET as given', () => {
    expect(loadConfig({ archive: Archive }, { ARCHIVE_DIR: '/mnt/cold', ARCHIVE_BUCKET: 'tracker-archive' }).archive).toEqual({ bucket: 'tracker-archive', dir: '/mnt/cold' });
  });

  it('refuse rollups kept shorter than the events they count', () => {
    expect(() => loadConfig({ retention: Retention }, { EVENT_RETENTION_DAYS: '120', ROLLUP_RETENTION_DAYS: '60' })).toThrow(/ROLLUP_RETENTION_DAYS: must be at least EVENT_RETENTION_DAYS/);
    expect(() => loadLocalConfig({ MAINTENANCE_INTERVAL_MS: '0' })).toThrow(/MAINTENANCE_INTERVAL_MS/);
  });
});
