import { z } from 'zod';
import { MAX_BATCH_EVENTS, MAX_RETENTION_DAYS } from '../lambdas/shared/domain/limits.js';
import { PII_DETECTORS, PII_MODES } from '../lambdas/shared/domain/pii-masking.js';

/** Aurora PostgreSQL: max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000); 1 ACU is 2 GiB. */
export function auroraMaxConnections(acu: number): number {
  return Math.min(Math.floor((acu * 2 * 1024 ** 3) / 9_531_392), 5000);
}

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
      minCapacityAcu: z.number().min(0).max(256),
      maxCapacityAcu: z.number().min(1).max(256),
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
    // Writers x pool size must leave half of the connections at minimum capacity to everyone else.
    const budget = Math.floor(auroraMaxConnections(Math.max(config.database.minCapacityAcu, 0.5)) / 2);
    if (config.writer.maxConcurrency * config.writer.dbPoolSize > budget) {
      ctx.addIssue({
        code: 'custom',
        path: ['writer', 'maxConcurrency'],
        message: `maxConcurrency x dbPoolSize is ${config.writer.maxConcurrency * config.writer.dbPoolSize}; at ${config.database.minCapacityAcu} ACU the limit is ${budget}`,
      });
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
