import type { RateDecision, RateLimitKind } from '../../lambdas/shared/domain/rate-limit.js';
import type { RateLimiter } from '../../lambdas/shared/ports/rate-limiter.js';

/** Admits everything and remembers what was taken. */
export function recordingLimiter(refuse: RateLimitKind[] = []): RateLimiter & { taken: Array<{ tenantId: string; kind: RateLimitKind; cost: number }> } {
  const taken: Array<{ tenantId: string; kind: RateLimitKind; cost: number }> = [];
  return {
    taken,
    async take(tenantId, kind, cost): Promise<RateDecision> {
      taken.push({ tenantId, kind, cost });
      return refuse.includes(kind) ? { allowed: false, retryAfterMs: 1500 } : { allowed: true };
    },
  };
}
