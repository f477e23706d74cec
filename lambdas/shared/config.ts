import { z } from 'zod';
import { MAX_BATCH_EVENTS } from './domain/limits.js';
import { PII_DETECTORS, PII_MODES, type PiiSettings } from './domain/pii-masking.js';
import type { TenantRateLimits } from './domain/rate-limit.js';

/** Environment variable names; the CDK constructs import these so the two cannot drift. */
export const ENV = {
  databaseUrl: 'DATABASE_URL',
  dbPoolSize: 'DB_POOL_SIZE',
  dbSecretArn: 'DB_SECRET_ARN',
  dbHost: 'DB_HOST',
  dbName: 'DB_NAME',
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

const piiDetectors = z
  .string()
  .default(PII_DETECTORS.join(','))
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
  .pipe(z.array(z.enum(PII_DETECTORS)));

// {"<tenant uuid>": {"detectors": ["email", "ip"], "mode": "hash"}}: tenants whose rule differs.
const piiTenantPolicies = z
  .string()
  .default('{}')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.uuid(), z.strictObject({ detectors: z.array(z.enum(PII_DETECTORS)), mode: z.enum(PII_MODES) })));

const httpShape = {
  // Browser origins allowed to call the API; empty: no CORS headers at all.
  [ENV.corsOrigins]: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
    .pipe(z.array(z.url())),
};

const ingestShape = {
  [ENV.eventsQueueUrl]: z.url().optional(),
  // SQS accepts up to 1 MiB since 2025, but 256 KiB is what every region and tool supports.
  [ENV.sqsMaxMessageBytes]: positiveInt(256 * 1024),
  [ENV.piiDetectors]: piiDetectors,
  // hash: found PII becomes a per-tenant keyed hash instead of a plain [email] marker.
  [ENV.piiMode]: z.enum(PII_MODES).default('redact'),
  [ENV.piiTenantPolicies]: piiTenantPolicies,
  [ENV.piiHashSecret]: z.string().min(32, 'must be at least 32 characters').optional(),
  // In AWS the secret stays in Secrets Manager; the ingest functions read it at cold start.
  [ENV.piiHashSecretArn]: z.string().startsWith('arn:').optional(),
  [ENV.eventRetentionDays]: positiveInt(90),
};

const databaseShape = {
  [ENV.databaseUrl]: optionalText,
  [ENV.dbPoolSize]: positiveInt(4),
  // In AWS: credentials from Secrets Manager, host of the RDS Proxy.
  [ENV.dbSecretArn]: optionalText,
  [ENV.dbHost]: optionalText,
  [ENV.dbName]: z.string().min(1).default('tracker'),
};

const authShape = {
  [ENV.jwtSecret]: z.string().min(32, 'must be at least 32 characters').optional(),
  [ENV.jwksUrl]: z.url().optional(),
  [ENV.jwtIssuer]: optionalText,
  [ENV.jwtAudience]: optionalText,
};

const rateLimitShape = {
  [ENV.tenantRateLimitRps]: positiveInt(100),
  // A bucket smaller than one full batch would refuse every full batch, however slow.
  [ENV.tenantRateLimitEvents]: z.coerce.number().int().min(MAX_BATCH_EVENTS, `must be at least ${MAX_BATCH_EVENTS}, one full batch`).default(10_000),
};

const dynamoShape = {
  // Unset in AWS (the regional endpoint) and locally (embedded dynalite).
  [ENV.dynamodbEndpoint]: z.url().optional(),
  [ENV.countersTable]: z.string().min(3).default('tracker-counters'),
  [ENV.writeKeysTable]: z.string().min(3).default('tracker-write-keys'),
};

const localShape = {
  ...httpShape,
  ...rateLimitShape,
  ...dynamoShape,
  ...ingestShape,
  ...databaseShape,
  ...authShape,
  [ENV.port]: z.coerce.number().int().min(0).max(65535).default(3000),
  [ENV.dataDir]: z.string().min(1).default('.data'),
  // The defaults of an SQS event source: 10 records, no batching window beyond 100 ms.
  [ENV.writerBatchSize]: positiveInt(10),
  [ENV.writerBatchWindowMs]: z.coerce.number().int().min(0).default(100),
  [ENV.queueMaxReceiveCount]: positiveInt(5),
  [ENV.queueVisibilityTimeoutMs]: positiveInt(30_000),
};

function parseEnv<Shape extends z.ZodRawShape>(shape: Shape, env: NodeJS.ProcessEnv): z.infer<z.ZodObject<Shape>> {
  // Empty strings count as unset: a blank line in an env file must not become a value.
  const present = Object.fromEntries(Object.keys(shape).map((key) => [key, env[key] === '' ? undefined : env[key]]));
  const result = z.object(shape).safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return result.data;
}

export interface IngestConfig {
  eventsQueueUrl?: string;
  sqsMaxMessageBytes: number;
  pii: PiiSettings;
  /** Where the hash secret is, when it is not in `pii.hashSecret` itself. */
  piiHashSecretArn?: string;
  eventRetentionDays: number;
}

export interface DatabaseConfig {
  databaseUrl?: string;
  poolSize: number;
  secretArn?: string;
  host?: string;
  name: string;
}

export interface AuthConfig {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export interface DynamoConfig {
  endpoint?: string;
  countersTable: string;
  writeKeysTable: string;
}

export interface LocalConfig {
  corsOrigins: string[];
  rateLimits: TenantRateLimits;
  dynamo: DynamoConfig;
  ingest: IngestConfig;
  database: DatabaseConfig;
  auth: AuthConfig;
  port: number;
  dataDir: string;
  queue: { batchSize: number; batchWindowMs: number; maxReceiveCount: number; visibilityTimeoutMs: number };
}

export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const parsed = parseEnv(ingestShape, env);
  const pii: PiiSettings = {
    deployment: { detectors: parsed[ENV.piiDetectors], mode: parsed[ENV.piiMode] },
    tenants: parsed[ENV.piiTenantPolicies],
    hashSecret: parsed[ENV.piiHashSecret],
  };
  const hashing = [pii.deployment, ...Object.values(pii.tenants)].some((rule) => rule.mode === 'hash');
  if (hashing && !pii.hashSecret && !parsed[ENV.piiHashSecretArn]) {
    throw new ConfigError([`${ENV.piiHashSecret}: is required when ${ENV.piiMode} or a tenant policy says hash (or ${ENV.piiHashSecretArn} in AWS)`]);
  }
  return {
    eventsQueueUrl: parsed[ENV.eventsQueueUrl],
    sqsMaxMessageBytes: parsed[ENV.sqsMaxMessageBytes],
    pii,
    piiHashSecretArn: parsed[ENV.piiHashSecretArn],
    eventRetentionDays: parsed[ENV.eventRetentionDays],
  };
}

export function loadHttpConfig(env: NodeJS.ProcessEnv = process.env): { corsOrigins: string[] } {
  return { corsOrigins: parseEnv(httpShape, env)[ENV.corsOrigins] };
}

/** The query functions need the retention, to refuse ranges longer than the data kept. */
export function loadQueryConfig(env: NodeJS.ProcessEnv = process.env): { eventRetentionDays: number } {
  return { eventRetentionDays: parseEnv({ [ENV.eventRetentionDays]: ingestShape[ENV.eventRetentionDays] }, env)[ENV.eventRetentionDays] };
}

export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const parsed = parseEnv(databaseShape, env);
  return {
    databaseUrl: parsed[ENV.databaseUrl],
    poolSize: parsed[ENV.dbPoolSize],
    secretArn: parsed[ENV.dbSecretArn],
    host: parsed[ENV.dbHost],
    name: parsed[ENV.dbName],
  };
}

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const parsed = parseEnv(authShape, env);
  return {
    jwtSecret: parsed[ENV.jwtSecret],
    jwksUrl: parsed[ENV.jwksUrl],
    issuer: parsed[ENV.jwtIssuer],
    audience: parsed[ENV.jwtAudience],
  };
}

/** Token buckets of one second: a tenant may burst to its per-second rate, then keeps to it. */
export function loadRateLimits(env: NodeJS.ProcessEnv = process.env): TenantRateLimits {
  const parsed = parseEnv(rateLimitShape, env);
  const requests = parsed[ENV.tenantRateLimitRps];
  const events = parsed[ENV.tenantRateLimitEvents];
  return { requests: { ratePerSecond: requests, burst: requests }, events: { ratePerSecond: events, burst: events } };
}

export function loadDynamoConfig(env: NodeJS.ProcessEnv = process.env): DynamoConfig {
  const parsed = parseEnv(dynamoShape, env);
  return { endpoint: parsed[ENV.dynamodbEndpoint], countersTable: parsed[ENV.countersTable], writeKeysTable: parsed[ENV.writeKeysTable] };
}

/** The whole local runtime's settings, checked at once so that one start names every bad key. */
export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const parsed = parseEnv(localShape, env);
  return {
    corsOrigins: parsed[ENV.corsOrigins],
    rateLimits: loadRateLimits(env),
    dynamo: loadDynamoConfig(env),
    ingest: loadIngestConfig(env),
    database: loadDatabaseConfig(env),
    auth: loadAuthConfig(env),
    port: parsed[ENV.port],
    dataDir: parsed[ENV.dataDir],
    queue: {
      batchSize: parsed[ENV.writerBatchSize],
      batchWindowMs: parsed[ENV.writerBatchWindowMs],
      maxReceiveCount: parsed[ENV.queueMaxReceiveCount],
      visibilityTimeoutMs: parsed[ENV.queueVisibilityTimeoutMs],
    },
  };
}
