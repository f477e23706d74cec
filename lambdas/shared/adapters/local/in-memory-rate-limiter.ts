import { admit, type RateDecision, type RateLimitKind, type TenantRateLimits } from '../../domain/rate-limit.js';
import type { RateLimiter } from '../../ports/rate-limiter.js';

/**
 * The local runtime's buckets: one process serves every request, so a map is exact. dynalite
 * could hold them too, but at 4-7 ms a call it made every local request 10 ms slower (two
 * buckets per track request); the DynamoDB adapter is tested against dynalite on its own.
 */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly tats = new Map<string, number>();

  constructor(
    private readonly limits: TenantRateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async take(tenantId: string, holder: string, kind: RateLimitKind, cost: number): Promise<RateDecision> {
    const bucket = `${tenantId}#${kind}#${holder}`;
    const { decision, tat } = admit(this.limits[kind], this.tats.get(bucket), this.now(), cost);
    if (tat !== undefined) this.tats.set(bucket, tat);
    return decision;
  }
}
