import type { RateDecision, RateLimitKind } from '../../lambdas/shared/domain/rate-limit.js';
import type { RateLimiter } from '../../lambdas/shared/ports/rate-limiter.js';

/** Admits everything and remembers what was taken. */
interface Taken {
  tenantId: string;
  holder: string;
  kind: RateLimitKind;
  cost: number;
}

export function recordingLimiter(refuse: RateLimitKind[] = []): RateLimiter & { taken: Taken[] } {
  const taken: Taken[] = [];
  return {
    taken,
    async take(tenantId, holder, kind, cost): Promise<RateDecision> {
      taken.push({ tenantId, holder, kind, cost });
      return refuse.includes(kind) ? { allowed: false, retryAfterMs: 1500 } : { allowed: true };
    },
  };
}
