import { isExpired, type LiveCounterSettings } from '../domain/live-counters.js';
import { describeError, log } from '../logger.js';
import { emitCounts, METRIC } from '../metrics.js';
import type { CounterOutbox, LiveCounterStore } from '../ports/live-counters.js';

/** Deltas per claim: one transaction; a delta is one delivery's counts for one tenant. */
const CLAIM_LIMIT = 1000;
/** Claims per flush: after an outage the backlog drains over several deliveries, each bounded. */
const MAX_CLAIMS = 5;
/** After a failed flush the next ones wait, doubling from this up to the cap: an outage costs the writer a few calls, not one per delivery. */
const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 60_000;

export interface FlushOutcome {
  /** Deltas (a delivery's counts for one tenant) now in their counters. */
  applied: number;
  /** Counts of minutes past the counters' TTL, deleted without being applied. */
  expired: number;
  /** Not tried: an earlier flush failed moments ago. */
  paused: boolean;
}

/**
 * Moves the writer's counter deltas from the outbox to the live counters, after the commit of
 * each delivery (and of whichever delivery a crash interrupted before its flush).
 * 1. Claim pending deltas that no other flush holds.
 * 2. Drop the counts of minutes past the TTL; apply the rest, each delta once, however often it is tried.
 * 3. Delete what is done; the rest stays for the next flush. A failure of either store never
 *    fails the delivery: it is logged and counted, later flushes pause for a while, and the
 *    counters catch up once both answer again.
 */
export class LiveCounterFlusher {
  private pausedUntil = 0;
  private pauseMs = 0;

  constructor(
    private readonly outbox: CounterOutbox,
    private readonly counters: LiveCounterStore,
    private readonly settings: Pick<LiveCounterSettings, 'ttlHours'>,
    private readonly now: () => number = Date.now,
  ) {}

  async flush(): Promise<FlushOutcome> {
    const outcome: FlushOutcome = { applied: 0, expired: 0, paused: false };
    if (this.now() < this.pausedUntil) return { ...outcome, paused: true };
    try {
      for (let claim = 0; claim < MAX_CLAIMS; claim++) {
        let failure: unknown;
        let done: string[] = [];
        const { claimed } = await this.outbox.drain(CLAIM_LIMIT, async (deltas) => {
          const now = this.now();
          const live = deltas.map((delta) => ({ ...delta, counts: delta.counts.filter((count) => !isExpired(count, now, this.settings.ttlHours)) }));
          outcome.expired += deltas.reduce((sum, delta) => sum + delta.counts.length, 0) - live.reduce((sum, delta) => sum + delta.counts.length, 0);
          const gone = live.filter((delta) => delta.counts.length === 0).map((delta) => delta.deltaId);
          const applying = await this.counters.apply(live.filter((delta) => delta.counts.length > 0));
          failure = applying.failure;
          outcome.applied += applying.applied.length;
          done = [...gone, ...applying.applied];
          return new Set(done);
        });
        // Only now is the outbox's delete committed: these deltas can never come back.
        this.counters.forget(done);
        if (failure !== undefined) throw failure;
        if (claimed < CLAIM_LIMIT) break;
      }
      this.pauseMs = 0;
    } catch (error) {
      this.pauseMs = Math.min(MAX_PAUSE_MS, this.pauseMs === 0 ? FIRST_PAUSE_MS : this.pauseMs * 2);
      this.pausedUntil = this.now() + this.pauseMs;
      log('error', 'live counters not flushed; the deltas wait in the outbox', { pauseMs: this.pauseMs, ...describeError(error) });
      emitCounts({ [METRIC.liveCounterFlushFailed]: 1 });
    }
    if (outcome.expired > 0) emitCounts({ [METRIC.liveCounterDeltasExpired]: outcome.expired });
    return outcome;
  }
}
