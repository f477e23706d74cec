import { randomUUID } from 'node:crypto';
import type { EventType, TrackedEvent } from '../../lambdas/shared/domain/event-schemas.js';

/** A product's mix: mostly user actions, some performance and system events, rare security ones. */
const TYPE_WEIGHTS: Array<[EventType, number]> = [
  ['USER_ACTION', 0.6],
  ['PERFORMANCE', 0.15],
  ['SYSTEM_EVENT', 0.1],
  ['CUSTOM', 0.06],
  ['ERROR', 0.04],
  ['BUSINESS', 0.04],
  ['SECURITY', 0.01],
];
const CATEGORIES = ['navigation', 'checkout', 'auth', 'search', 'api', 'billing', 'profile', 'jobs'];
const ACTIONS = ['view', 'click', 'submit', 'fail', 'retry', 'complete'];

/** A small deterministic generator, so two runs compare the same data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  count: number;
  /** Events spread evenly over this many days before `end`. */
  days: number;
  end?: Date;
  users?: number;
  seed?: number;
  /** Sorted by timestamp, as a live stream reaches the writer; otherwise in random order (a backfill). */
  inTimeOrder?: boolean;
}

/** Events shaped like real traffic: a few hundred (type, category, action) keys, a user pool, small properties. */
export function generateEvents({ count, days, end = new Date(), users = 5000, seed = 1, inTimeOrder = false }: GenerateOptions): TrackedEvent[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const pickType = (): EventType => {
    let roll = random();
    for (const [type, weight] of TYPE_WEIGHTS) {
      roll -= weight;
      if (roll < 0) return type;
    }
    return 'CUSTOM';
  };
  const userIds = Array.from({ length: users }, () => randomUUID());
  const span = days * 86_400_000;
  const offsets = Array.from({ length: count }, () => random() * span);
  if (inTimeOrder) offsets.sort((a, b) => b - a);
  return offsets.map((offset) => {
    const type = pickType();
    const timestamp = new Date(end.getTime() - offset).toISOString();
    return {
      eventId: randomUUID(),
      timestamp,
      type,
      category: pick(CATEGORIES),
      action: pick(ACTIONS),
      label: random() < 0.5 ? `label-${Math.floor(random() * 100)}` : null,
      value: type === 'PERFORMANCE' || type === 'BUSINESS' ? Math.round(random() * 100_000) / 100 : null,
      userId: random() < 0.9 ? pick(userIds) : null,
      sessionId: `s-${Math.floor(random() * 50_000)}`,
      properties: { page: `/p/${Math.floor(random() * 200)}`, plan: pick(['free', 'pro', 'team']), ab: random() < 0.5 },
      context: { locale: 'en-GB', deviceType: pick(['desktop', 'mobile', 'tablet']) },
      metadata: type === 'ERROR' ? { severity: 'HIGH' } : {},
      receivedAt: timestamp,
    };
  });
}
