/**
 * Per-tenant token buckets, kept as GCRA (generic cell rate algorithm): the whole state of a
 * bucket is one number, its theoretical arrival time (TAT), so a shared store can update it
 * with a single conditional write instead of a read-modify-write of tokens and a timestamp.
 * A bucket of `ratePerSecond` with room for `burst` units admits exactly what a token bucket
 * of that rate and capacity admits.
 */
export interface BucketLimit {
  ratePerSecond: number;
  burst: number;
}

export type RateLimitKind = 'requests' | 'events';

export interface TenantRateLimits {
  requests: BucketLimit;
  events: BucketLimit;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Milliseconds of the bucket one unit uses. */
export function emissionIntervalMs(limit: BucketLimit): number {
  return 1000 / limit.ratePerSecond;
}

/**
 * The latest TAT at which `cost` units still fit: a request is admitted when
 * `max(tat, now) + cost * interval <= now + burst * interval`.
 */
export function latestAdmissibleTat(limit: BucketLimit, nowMs: number, cost: number): number {
  return nowMs + (limit.burst - cost) * emissionIntervalMs(limit);
}

/** How long until `cost` units fit into a bucket whose TAT is `tat`. */
export function retryAfterMs(limit: BucketLimit, tat: number, nowMs: number, cost: number): number {
  return Math.max(0, tat - latestAdmissibleTat(limit, nowMs, cost));
}

/**
 * One admission decision on a bucket whose TAT is `tat` (undefined: never used), and the TAT
 * to keep. Units beyond the bucket's size never fit, however long one waits.
 */
export function admit(limit: BucketLimit, tat: number | undefined, nowMs: number, cost: number): { decision: RateDecision; tat: number | undefined } {
  if (cost > limit.burst) return { decision: { allowed: false, retryAfterMs: cost * emissionIntervalMs(limit) }, tat };
  const start = Math.max(tat ?? nowMs, nowMs);
  if (start > latestAdmissibleTat(limit, nowMs, cost)) return { decision: { allowed: false, retryAfterMs: retryAfterMs(limit, start, nowMs, cost) }, tat };
  return { decision: { allowed: true }, tat: start + cost * emissionIntervalMs(limit) };
}

/**
 * Whose bucket a request takes from. Each write key has its own: browser keys are public, and
 * whoever copies one must not be able to exhaust the tenant's users' allowance with it. The
 * tenant's users (JWTs: people and their servers) share one.
 */
export function rateLimitHolder(subject: string): string {
  return subject.startsWith('writekey:') ? subject : 'members';
}

/** `Retry-After` is in whole seconds; never 0, which clients read as "now". */
export function retryAfterSeconds(decision: { retryAfterMs: number }): number {
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}
