import { z } from 'zod';
import { MAX_BATCH_EVENTS, MAX_RETENTION_DAYS } from '../lambdas/shared/domain/limits.js';
import { PII_DETECTORS, PII_MODES } from '../lambdas/shared/domain/pii-masking.js';
import { ROUTES } from '../lambdas/routes.js';
import type { Routes } from '../lambdas/shared/adapters/http/route-spec.js';

/** Aurora PostgreSQL: max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000); 1 ACU is 2 GiB. */
export function auroraMaxConnections(acu: number): number {
  return Math.min(Math.floor((acu * 2 * 1024 ** 3) / 9_531_392), 5000);
}

/**
 * Aurora PostgreSQL versions that may scale to 0 ACU and pause (the Aurora User Guide,
 * "Aurora Serverless v2 capacity"): 16.3, 15.7, 14.12, 13.15 and later minors of each major.
 */
const AUTO_PAUSE_FROM: Record<number, number> = { 13: 15, 14: 12, 15: 7, 16: 3, 17: 4 };

export function supportsAutoPause(engineVersion: string): boolean {
  const [major, minor] = engineVersion.split('.').map(Number) as [number, number];
  const from = AUTO_PAUSE_FROM[major];
  return from !== undefined && minor >= from;
}

/** Connections left to operators (psql, the Data API, the rotation function) whatever the functions hold. */
export const OPERATOR_CONNECTIONS = 10;

/** One connection holds the maintenance run's advisory lock while the other works. */
export const MAINTENANCE_POOL = 2;
export const MIGRATION_POOL = 1;
/** The live stream's resume reader: one statement per invocation. */
export const STREAM_REPLAY_POOL = 1;

/**
 * The most connections the stage's functions can open at once: every writer its pool, every
 * reserved instance of a query function (and of the live stream's resume reader) its pool, the
 * maintenance job's two and the migration's one. Without reserved concurrency a query function
 * would have no bound at all.
 */
export function functionConnections(config: Pick<StageConfig, 'writer' | 'queries'>): { writer: number; queries: number; jobs: number; total: number } {
  const writer = config.writer.maxConcurrency * config.writer.dbPoolSize;
  const pools = Object.values(ROUTES as Routes).reduce((sum, route) => sum + (route.needs?.database?.poolSize ?? 0), STREAM_REPLAY_POOL);
  const queries = pools * config.queries.reservedConcurrency;
  const jobs = MAINTENANCE_POOL + MIGRATION_POOL;
  return { writer, queries, jobs, total: writer + queries + jobs };
}

/** The smallest capacity the writer instance runs at: a paused instance resumes at 0.5 ACU. */
export const smallestRunningAcu = (minCapacityAcu: number): number => Math.max(minCapacityAcu, 0.5);

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const StageConfigSchema = z
  .strictObject({
    stage: z.enum(['dev', 'staging', 'prod']),
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'),
    /** A custom domain for the API, with its ACM certificate in the same region. */
    domain: z.strictObject({ name: z.string().min(3), certificateArn: z.string().startsWith('arn:aws:acm:') }).optional(),
    alarmEmail: z.email(),
    corsOrigins: z.array(z.url()),
    /** Masking before the queue: detectors and redact or hash, for the stage and for tenants with their own rule. */
    pii: z.strictObject({
      detectors: z.array(z.enum(PII_DETECTORS)),
      mode: z.enum(PII_MODES),
      tenants: z.record(z.uuid(), z.strictObject({ detectors: z.array(z.enum(PII_DETECTORS)), mode: z.enum(PII_MODES) })),
    }),
    /** Days kept; at most `MAX_RETENTION_DAYS`, the most one queue message's 240 months allow. */
    retention: z.strictObject({
      eventDays: z.number().int().min(7).max(MAX_RETENTION_DAYS),
      /** At least the events' days: the reads count from rollups wherever the events are still kept. */
      rollupDays: z.number().int().min(30).max(MAX_RETENTION_DAYS),
      /** Tenants that keep their events for fewer days than the stage: tenant id -> days. */
      tenantEventDays: z.record(z.uuid(), z.number().int().min(1)).default({}),
      logDays: z.number().refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`),
    }),
    rateLimits: z.strictObject({
      /** API Gateway stage throttling, all tenants together. */
      requestsPerSecond: z.number().int().positive(),
      burst: z.number().int().positive(),
    }),
    /** Per tenant (token buckets of one second in DynamoDB), checked by the functions. */
    tenantRateLimits: z.strictObject({
      requestsPerSecond: z.number().int().positive(),
      /** At least one full batch of 1,000 events. */
      eventsPerSecond: z.number().int().min(MAX_BATCH_EVENTS),
    }),
    database: z.strictObject({
      /** Aurora PostgreSQL `<major>.<minor>`, e.g. 16.6; 0 ACU needs a version that can pause. */
      engineVersion: z.string().regex(/^1[3-7]\.\d+$/, 'must be an Aurora PostgreSQL version such as 16.6'),
      /** 0 lets the writer instance pause after `autoPauseSeconds` without connections. */
      minCapacityAcu: z.number().min(0).max(256).multipleOf(0.5),
      maxCapacityAcu: z.number().min(1).max(256).multipleOf(0.5),
      /** Idle seconds before a 0-ACU instance pauses: 300 to 86,400 (the RDS API's range). */
      autoPauseSeconds: z.number().int().min(300).max(86_400).optional(),
      /**
       * RDS Proxy in front of the cluster: multiplexes connections in big stages, and bills
       * for 8 ACU whatever the load. Without it the functions connect to the cluster directly
       * with IAM tokens, and nothing holds a connection that would keep the instance awake.
       */
      proxy: z.boolean(),
      backupRetentionDays: z.number().int().min(1).max(35),
      deletionProtection: z.boolean(),
    }),
    /** Alarm settings that depend on the stage's traffic. */
    alarms: z.strictObject({
      /**
       * How long no event may be accepted, with nothing queued, before the sources count as
       * silent: a quiet dev stage is silent for hours, prod for minutes. A multiple of the alarm's
       * 5-minute period, and a day at most (the longest an alarm evaluates over).
       */
      silentIngestMinutes: z.number().int().multipleOf(5).min(5).max(1440),
    }),
    /** The functions that read Aurora for the API. */
    queries: z.strictObject({
      /** Per function: bounds the connections they open (their pools) and what they may cost. */
      reservedConcurrency: z.number().int().min(1).max(100),
    }),
    maintenance: z.strictObject({
      /**
       * Hours between maintenance runs: every run connects, and a connection every hour keeps a
       * pausing instance from ever pausing for long. A day at most, since the partitions are
       * kept months ahead; a divisor of 24, so that runs fall at the same hours every day.
       */
      everyHours: z.number().int().min(1).max(24).refine((hours) => 24 % hours === 0, 'must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24)'),
      /**
       * The job's share of the wall clock (MAINTENANCE_DUTY_CYCLE): it rests between its pages
       * and batches so that Aurora keeps answering the traffic. Lower costs run time: a month's
       * export must still fit one 15-minute run per tenant (docs/operations.md, Retention in AWS).
       */
      dutyCycle: z.number().gt(0).max(1),
    }),
    writer: z.strictObject({
      batchSize: z.number().int().min(1).max(10_000),
      batchWindowSeconds: z.number().int().min(0).max(300),
      /** SQS event sources take 2 to 1000. */
      maxConcurrency: z.number().int().min(2).max(1000),
      timeoutSeconds: z.number().int().min(1).max(900),
      dbPoolSize: z.number().int().min(1).max(20),
    }),
  })
  .superRefine((config, ctx) => {
    if (config.database.maxCapacityAcu < config.database.minCapacityAcu) {
      ctx.addIssue({ code: 'custom', path: ['database', 'maxCapacityAcu'], message: 'must be at least minCapacityAcu' });
    }
    const { database } = config;
    if (!supportsAutoPause(database.engineVersion) && database.minCapacityAcu === 0) {
      ctx.addIssue({ code: 'custom', path: ['database', 'minCapacityAcu'], message: `0 needs an engine version that can pause (16.3+, 15.7+, 14.12+, 13.15+); database.engineVersion is ${database.engineVersion}` });
    }
    if (database.minCapacityAcu === 0 && database.proxy) {
      ctx.addIssue({ code: 'custom', path: ['database', 'proxy'], message: 'must be false when database.minCapacityAcu is 0: RDS Proxy holds connections, and an instance with connections never pauses' });
    }
    if (database.minCapacityAcu === 0 && database.autoPauseSeconds === undefined) {
      ctx.addIssue({ code: 'custom', path: ['database', 'autoPauseSeconds'], message: 'is required when database.minCapacityAcu is 0' });
    }
    if (database.minCapacityAcu > 0 && database.autoPauseSeconds !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['database', 'autoPauseSeconds'], message: 'only applies when database.minCapacityAcu is 0 (an instance with a floor never pauses)' });
    }
    // Every connection the functions can hold at once must fit the smallest running instance.
    const connections = functionConnections(config);
    const acu = smallestRunningAcu(database.minCapacityAcu);
    const budget = auroraMaxConnections(acu) - OPERATOR_CONNECTIONS;
    if (connections.total > budget) {
      const detail = `writer.maxConcurrency x writer.dbPoolSize (${connections.writer}) + queries.reservedConcurrency x the query pools (${connections.queries}) + the jobs' ${connections.jobs} is ${connections.total}; at ${acu} ACU the functions may hold ${budget}`;
      for (const path of [['writer', 'maxConcurrency'], ['queries', 'reservedConcurrency']]) ctx.addIssue({ code: 'custom', path, message: detail });
    }
    if (config.retention.rollupDays < config.retention.eventDays) {
      ctx.addIssue({ code: 'custom', path: ['retention', 'rollupDays'], message: `must be at least eventDays (${config.retention.eventDays})` });
    }
    for (const [tenant, days] of Object.entries(config.retention.tenantEventDays)) {
      if (days > config.retention.eventDays) {
        ctx.addIssue({ code: 'custom', path: ['retention', 'tenantEventDays', tenant], message: `must be at most eventDays (${config.retention.eventDays}): a tenant may keep events shorter, not longer` });
      }
    }
    if (config.stage === 'prod' && !config.database.deletionProtection) {
      ctx.addIssue({ code: 'custom', path: ['database', 'deletionProtection'], message: 'must be true in prod' });
    }
  });

export type StageConfig = z.infer<typeof StageConfigSchema>;

/** A stage config that does not parse: every bad key is named, so one edit fixes them all. */
export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

export function parseStageConfig(stage: string, raw: unknown): StageConfig {
  const result = StageConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - stages.${stage}.${issue.path.join('.')}: ${issue.message}`);
  throw new StageConfigError(`Stage config "${stage}" is invalid:\n${problems.join('\n')}`);
}

/** The two zones the VPC spans: named rather than looked up, so that synth needs no AWS call. */
export function availabilityZones(config: Pick<StageConfig, 'region'>): string[] {
  return [`${config.region}a`, `${config.region}b`];
}
