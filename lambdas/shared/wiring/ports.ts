import type { HttpSettings } from '../adapters/http/api-gateway.js';
import type { Routes } from '../adapters/http/route-spec.js';
import type { EventAdmin } from '../ports/event-admin.js';
import type { EventQueries } from '../ports/event-queries.js';
import type { EventQueue } from '../ports/event-queue.js';
import type { EventStore } from '../ports/event-store.js';
import type { LiveCounterStore } from '../ports/live-counters.js';
import type { LiveCounterSettings } from '../domain/live-counters.js';
import type { RetentionSettings } from '../domain/retention-plan.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { WriteKeyStore } from '../ports/write-key-store.js';
import type { QuerySettings } from '../use-cases/query-events.js';
import type { TrackSettings } from '../use-cases/track-events.js';

/**
 * Every port and setting an HTTP handler may ask for. Each handler's `createHandler` takes the
 * part it uses; the local runtime builds all of them once and hands every handler the lot,
 * while each deployed function builds only its part (`wiring/aws.ts`).
 */
export interface Ports {
  store: EventStore;
  queries: EventQueries;
  admin: EventAdmin;
  writeKeys: WriteKeyStore;
  queue: EventQueue;
  limiter: RateLimiter;
  liveCounters: LiveCounterStore;
  liveCounterSettings: LiveCounterSettings;
  ingest: TrackSettings;
  query: QuerySettings;
  retention: RetentionSettings;
  http: HttpSettings;
  /** The routes served, which the API document describes. */
  routes: Routes;
}
