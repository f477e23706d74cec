import type { StoredEvent } from '../domain/answer-schemas.js';
import type { StreamFilter } from '../domain/live-stream.js';

/** The events a reconnecting subscriber of the deployed stream missed. */
export interface ReplayRequest {
  tenantId: string;
  /** The last event the subscriber saw. */
  after: string;
  /** Stored at most at this instant (ISO): what came later the connection was sent live. */
  until: string;
  filter: StreamFilter;
}

export interface Replay {
  /** The missed events the filter takes, in the order the stream sends them. */
  events: StoredEvent[];
  /** False when `after` is not the tenant's, or more were stored since than a replay carries: nothing is sent then. */
  complete: boolean;
}

export interface StreamReplaySource {
  eventsStoredAfter(request: ReplayRequest): Promise<Replay>;
}
