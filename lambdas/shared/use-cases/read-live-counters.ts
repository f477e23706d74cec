import type { LiveCounters } from '../domain/answer-schemas.js';
import { ValidationError } from '../domain/errors.js';
import { fillMinutes, liveWindow, LiveCounterQuerySchema, windowMinutes, type LiveCounterSettings } from '../domain/live-counters.js';
import { parseInput } from '../domain/zod-issues.js';
import type { LiveCounterStore } from '../ports/live-counters.js';

/**
 * GET /v1/counters/live.
 * 1. Validate the window (no longer than the counters live) and the filters.
 * 2. Read the tenant's minute counters of the window, every shard merged.
 * 3. Keep the types and categories asked for, and fill in the minutes without events.
 */
export async function readLiveCounters(counters: LiveCounterStore, tenantId: string, params: unknown, settings: Pick<LiveCounterSettings, 'ttlHours'>, now: number = Date.now()): Promise<LiveCounters> {
  const query = parseInput(LiveCounterQuerySchema, params);
  const minutes = windowMinutes(query.window);
  if (minutes > settings.ttlHours * 60) {
    throw new ValidationError([{ path: 'window', message: `is longer than the live counters are kept (${settings.ttlHours}h)` }]);
  }
  const window = liveWindow(now, minutes);
  const types = query.types?.length ? new Set<string>(query.types) : undefined;
  const categories = query.categories?.length ? new Set(query.categories) : undefined;
  const counts = (await counters.read(tenantId, 'minute', window.from, window.to)).filter(
    (count) => (!types || types.has(count.type)) && (!categories || categories.has(count.category)),
  );
  return { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), counts: fillMinutes(counts, window) };
}
