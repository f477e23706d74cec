import type { RateDecision, RateLimitKind } from '../domain/rate-limit.js';

/**
 * Takes units from a tenant's bucket, shared by every function instance (in AWS, many Lambda
 * containers at once), so that one tenant's flood is refused before it costs the others.
 */
export interface RateLimiter {
  /** `holder` names the bucket within the tenant (see `rateLimitHolder`). */
  take(tenantId: string, holder: string, kind: RateLimitKind, cost: number): Promise<RateDecision>;
}
