import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { emissionIntervalMs, latestAdmissibleTat, retryAfterMs, type RateDecision, type RateLimitKind, type TenantRateLimits } from '../../domain/rate-limit.js';
import { describeError, log } from '../../logger.js';
import type { RateLimiter } from '../../ports/rate-limiter.js';

/** An idle bucket's item outlives its last use by this much, then DynamoDB TTL removes it. */
const IDLE_ITEM_TTL_SECONDS = 3600;
/** Two instances racing on one bucket: try again with what the other one wrote. */
const MAX_ATTEMPTS = 3;
/** Known TATs kept per container before the stale ones are dropped. */
const MAX_KNOWN_BUCKETS = 10_000;

/**
 * GCRA buckets in the counters table (`pk = rate#<tenant>`, `sk = requests|events`), shared
 * by every Lambda container. A busy bucket costs one conditional update per request; an idle
 * one two; a refused request two failed updates and a read, once: a bucket's TAT only ever
 * grows, so the container remembers the last one it saw and refuses without a round trip
 * until that moment has passed. A flood is then refused at the cost of a map lookup.
 */
export class DynamoRateLimiter implements RateLimiter {
  private readonly knownTat = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly limits: TenantRateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async take(tenantId: string, kind: RateLimitKind, cost: number): Promise<RateDecision> {
    try {
      return await this.takeFromBucket(tenantId, kind, cost);
    } catch (error) {
      // Failing open: refusing every event because the limiter's table is unreachable would
      // lose more than a flood could cost; the alarm on function errors still sees the log.
      log('error', 'rate limiter unavailable, request let through', { tenantId, kind, ...describeError(error) });
      return { allowed: true };
    }
  }

  private async takeFromBucket(tenantId: string, kind: RateLimitKind, cost: number): Promise<RateDecision> {
    const limit = this.limits[kind];
    const bucket = `${tenantId}#${kind}`;
    const key = { pk: { S: `rate#${tenantId}` }, sk: { S: kind } };
    const increment = cost * emissionIntervalMs(limit);
    const known = this.knownTat.get(bucket);
    if (known !== undefined && known > latestAdmissibleTat(limit, this.now(), cost)) {
      return { allowed: false, retryAfterMs: retryAfterMs(limit, known, this.now(), cost) };
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.now();
      const latest = latestAdmissibleTat(limit, now, cost);
      const expiresAt = Math.ceil((latest + increment) / 1000) + IDLE_ITEM_TTL_SECONDS;
      // 1. A bucket in use (its TAT ahead of now): move the TAT on if the units still fit.
      const moved = await this.updateIf(key, 'SET tat = tat + :increment, expiresAt = :expiresAt', 'tat >= :now AND tat <= :latest', {
        ':increment': { N: String(increment) },
        ':expiresAt': { N: String(expiresAt) },
        ':now': { N: String(now) },
        ':latest': { N: String(latest) },
      });
      if (moved !== undefined) return this.admitted(bucket, moved);
      // 2. A new or idle bucket: start it at now.
      const started = await this.updateIf(key, 'SET tat = :tat, expiresAt = :expiresAt', 'attribute_not_exists(tat) OR tat < :now', {
        ':tat': { N: String(now + increment) },
        ':expiresAt': { N: String(expiresAt) },
        ':now': { N: String(now) },
      });
      if (started !== undefined) return this.admitted(bucket, started);
      // 3. Neither: the bucket is full, or another instance moved it between the two writes.
      const tat = await this.readTat(key);
      if (tat !== undefined && tat > latest) {
        this.remember(bucket, tat);
        return { allowed: false, retryAfterMs: retryAfterMs(limit, tat, now, cost) };
      }
    }
    return { allowed: false, retryAfterMs: increment };
  }

  private admitted(bucket: string, tat: number): RateDecision {
    this.remember(bucket, tat);
    return { allowed: true };
  }

  private remember(bucket: string, tat: number): void {
    if (this.knownTat.size >= MAX_KNOWN_BUCKETS) {
      const now = this.now();
      for (const [name, known] of this.knownTat) if (known < now) this.knownTat.delete(name);
    }
    this.knownTat.set(bucket, tat);
  }

  /** The bucket's new TAT when the condition held, undefined when it did not. */
  private async updateIf(
    key: Record<string, { S: string }>,
    update: string,
    condition: string,
    values: Record<string, { N: string }>,
  ): Promise<number | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.['tat']?.N);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private async readTat(key: Record<string, { S: string }>): Promise<number | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ProjectionExpression: 'tat' }));
    const tat = Item?.['tat']?.N;
    return tat === undefined ? undefined : Number(tat);
  }
}
