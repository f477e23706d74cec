import type { RateDecision, RateLimitKind } from '../domain/rate-limit.js';

/**
 * Takes units from a tenant's bucket, shared by every function instance (in AWS, many Lambda
 * containers at once), so that one tenant's flood is refused before it costs the others.
 */
export interface RateLimiter {
  take(tenantId: string, kind: RateLimitKind, cost: number): Promise<RateDecision>;
}
