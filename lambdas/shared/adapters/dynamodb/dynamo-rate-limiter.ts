import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { emissionIntervalMs, latestAdmissibleTat, retryAfterMs, type BucketLimit, type RateDecision, type RateLimitKind, type TenantRateLimits } from '../../domain/rate-limit.js';
import { describeError, log } from '../../logger.js';
import { emitCounts, METRIC } from '../../metrics.js';
import type { RateLimiter } from '../../ports/rate-limiter.js';
import { isClientFault, isThrottled } from './dynamo-errors.js';
import { COUNTERS_TABLE_KEYS, COUNTERS_TTL_ATTRIBUTE } from './tables.js';

/** An idle bucket's item outlives its last use by this much, then DynamoDB TTL removes it. */
const IDLE_ITEM_TTL_SECONDS = 3600;
/** Two instances racing on one bucket: try again with what the other one wrote. */
const MAX_ATTEMPTS = 3;
/** Known TATs kept per container; beyond it the oldest are forgotten (they are only a shortcut). */
const MAX_KNOWN_BUCKETS = 10_000;

/** The bucket's TAT after a successful update, or what stopped it. */
type UpdateOutcome = { moved: true; tat: number } | { moved: false; tat?: number };

/**
 * GCRA buckets in the counters table (`pk = rate#<tenant>`, `sk = <kind>#<holder>`), shared by
 * every Lambda container. A busy bucket costs one conditional update per request, an idle one
 * two. A refused request costs one failed update: DynamoDB returns the TAT that failed the
 * condition (dynalite does not; locally a read follows). A bucket's TAT only ever grows, so a
 * container also remembers the last one it saw and refuses concurrent requests without a round
 * trip until then (this helps a local process or a burst, not one Lambda request after another).
 *
 * Failures: throttling of the bucket's item refuses the request; a client error (missing table,
 * missing permission) is a deployment bug and fails the request loudly; a timeout or a server
 * error lets it through, counted by a metric with an alarm, since refusing every event while
 * the limiter's table is down would lose more than any flood could cost.
 */
export class DynamoRateLimiter implements RateLimiter {
  private readonly knownTat = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly limits: TenantRateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async take(tenantId: string, holder: string, kind: RateLimitKind, cost: number): Promise<RateDecision> {
    const limit = this.limits[kind];
    // Units beyond the bucket's size never fit, however long one waits.
    if (cost > limit.burst) return { allowed: false, retryAfterMs: cost * emissionIntervalMs(limit) };
    try {
      return await this.takeFromBucket(tenantId, `${kind}#${holder}`, limit, cost);
    } catch (error) {
      // DynamoDB refusing the hot item of a flooding tenant is an answer too: that tenant waits.
      if (isThrottled(error)) return { allowed: false, retryAfterMs: 1000 };
      if (isClientFault(error)) throw error;
      log('error', 'rate limiter unavailable, request let through', { tenantId, kind, ...describeError(error) });
      emitCounts({ [METRIC.rateLimiterFailedOpen]: 1 });
      return { allowed: true };
    }
  }

  private async takeFromBucket(tenantId: string, bucket: string, limit: BucketLimit, cost: number): Promise<RateDecision> {
    const cacheKey = `${tenantId}#${bucket}`;
    const key: Record<string, AttributeValue> = { [COUNTERS_TABLE_KEYS.partitionKey]: { S: `rate#${tenantId}` }, [COUNTERS_TABLE_KEYS.sortKey]: { S: bucket } };
    const increment = cost * emissionIntervalMs(limit);
    const refusal = (tat: number, now: number): RateDecision => {
      this.remember(cacheKey, tat);
      return { allowed: false, retryAfterMs: retryAfterMs(limit, tat, now, cost) };
    };
    const known = this.knownTat.get(cacheKey);
    if (known !== undefined && known > latestAdmissibleTat(limit, this.now(), cost)) return refusal(known, this.now());

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.now();
      const latest = latestAdmissibleTat(limit, now, cost);
      const expiresAt = { N: String(Math.ceil((latest + increment) / 1000) + IDLE_ITEM_TTL_SECONDS) };
      // 1. A bucket in use (its TAT ahead of now): move the TAT on if the units still fit.
      const busy = await this.updateIf(key, `SET tat = tat + :increment, ${COUNTERS_TTL_ATTRIBUTE} = :expiresAt`, 'tat >= :now AND tat <= :latest', {
        ':increment': { N: String(increment) },
        ':expiresAt': expiresAt,
        ':now': { N: String(now) },
        ':latest': { N: String(latest) },
      });
      if (busy.moved) return this.admitted(cacheKey, busy.tat);
      if (busy.tat !== undefined && busy.tat > latest) return refusal(busy.tat, now);
      // 2. A new or idle bucket: start it at now.
      const idle = await this.updateIf(key, `SET tat = :tat, ${COUNTERS_TTL_ATTRIBUTE} = :expiresAt`, 'attribute_not_exists(tat) OR tat < :now', {
        ':tat': { N: String(now + increment) },
        ':expiresAt': expiresAt,
        ':now': { N: String(now) },
      });
      if (idle.moved) return this.admitted(cacheKey, idle.tat);
      // 3. Neither: the bucket is full, or another instance moved it between the two writes.
      const tat = idle.tat ?? (await this.readTat(key));
      if (tat !== undefined && tat > latest) return refusal(tat, now);
    }
    // Lost every race at the bucket's edge: refuse briefly rather than admit unchecked.
    return { allowed: false, retryAfterMs: increment };
  }

  private admitted(cacheKey: string, tat: number): RateDecision {
    this.remember(cacheKey, tat);
    return { allowed: true };
  }

  private remember(cacheKey: string, tat: number): void {
    this.knownTat.delete(cacheKey);
    if (this.knownTat.size >= MAX_KNOWN_BUCKETS) {
      // A Map iterates in insertion order, and every write re-inserts: the first is the stalest.
      const stalest = this.knownTat.keys().next().value;
      if (stalest !== undefined) this.knownTat.delete(stalest);
    }
    this.knownTat.set(cacheKey, tat);
  }

  private async updateIf(key: Record<string, AttributeValue>, update: string, condition: string, values: Record<string, AttributeValue>): Promise<UpdateOutcome> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { moved: true, tat: Number(Attributes?.['tat']?.N) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const tat = error.Item?.['tat']?.N;
      return { moved: false, tat: tat === undefined ? undefined : Number(tat) };
    }
  }

  private async readTat(key: Record<string, AttributeValue>): Promise<number | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ProjectionExpression: 'tat' }));
    const tat = Item?.['tat']?.N;
    return tat === undefined ? undefined : Number(tat);
  }
}
