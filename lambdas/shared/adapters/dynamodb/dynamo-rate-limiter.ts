import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { emissionIntervalMs, latestAdmissibleTat, retryAfterMs, type RateDecision, type RateLimitKind, type TenantRateLimits } from '../../domain/rate-limit.js';
import { describeError, log } from '../../logger.js';
import type { RateLimiter } from '../../ports/rate-limiter.js';

/** An idle bucket's item outlives its last use by this much, then DynamoDB TTL removes it. */
const IDLE_ITEM_TTL_SECONDS = 3600;
/** Two instances racing on one bucket: try again with what the other one wrote. */
const MAX_ATTEMPTS = 3;

/**
 * GCRA buckets in the counters table (`pk = rate#<tenant>`, `sk = requests|events`), shared
 * by every Lambda container. A busy bucket costs one conditional update per request; an idle
 * one two; a refused request two failed updates and a read.
 */
export class DynamoRateLimiter implements RateLimiter {
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
    const key = { pk: { S: `rate#${tenantId}` }, sk: { S: kind } };
    const increment = cost * emissionIntervalMs(limit);
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
      if (moved) return { allowed: true };
      // 2. A new or idle bucket: start it at now.
      const started = await this.updateIf(key, 'SET tat = :tat, expiresAt = :expiresAt', 'attribute_not_exists(tat) OR tat < :now', {
        ':tat': { N: String(now + increment) },
        ':expiresAt': { N: String(expiresAt) },
        ':now': { N: String(now) },
      });
      if (started) return { allowed: true };
      // 3. Neither: the bucket is full, or another instance moved it between the two writes.
      const tat = await this.readTat(key);
      if (tat !== undefined && tat > latest) return { allowed: false, retryAfterMs: retryAfterMs(limit, tat, now, cost) };
    }
    return { allowed: false, retryAfterMs: increment };
  }

  private async updateIf(
    key: Record<string, { S: string }>,
    update: string,
    condition: string,
    values: Record<string, { N: string }>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({ TableName: this.tableName, Key: key, UpdateExpression: update, ConditionExpression: condition, ExpressionAttributeValues: values }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async readTat(key: Record<string, { S: string }>): Promise<number | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ProjectionExpression: 'tat' }));
    const tat = Item?.['tat']?.N;
    return tat === undefined ? undefined : Number(tat);
  }
}
