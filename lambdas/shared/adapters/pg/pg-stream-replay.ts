import { matchesFilter, RESUME_LATENESS_MS, RESUME_MAX_EVENTS } from '../../domain/live-stream.js';
import type { Replay, ReplayRequest, StreamReplaySource } from '../../ports/stream-replay.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-rows.js';
import type { SqlDatabase } from './sql-database.js';
import { inTenantTransaction } from './tenant-transaction.js';

/**
 * The events stored after `$2` and up to `$4`, at most `$5`. There is no index on `stored_at`;
 * the tenant's keyset index on `timestamp` takes the range from `$3` ms before the seen event's
 * `storedAt` (later events have later timestamps but for late ones), `stored_at` is filtered
 * on the way. One row with NULL columns when nothing was stored since, none when `$2` is not
 * the tenant's. Events of the seen one's own commit that the stream sent after it (timestamp,
 * then id) are included. Ordered as the stream sends them: by commit, then timestamp and id.
 */
const EVENTS_STORED_AFTER = `
WITH seen AS (
  SELECT timestamp, event_id, stored_at FROM analytics_events WHERE tenant_id = $1 AND event_id = $2 LIMIT 1
)
SELECT later.* FROM seen LEFT JOIN LATERAL (
  SELECT ${EVENT_COLUMNS} FROM analytics_events
  WHERE tenant_id = $1
    AND timestamp >= seen.stored_at - $3::double precision * interval '1 millisecond'
    AND stored_at <= $4::timestamptz
    AND (stored_at > seen.stored_at OR (stored_at = seen.stored_at AND (timestamp, event_id) > (seen.timestamp, seen.event_id)))
  ORDER BY timestamp, event_id
  LIMIT $5
) AS later ON true
ORDER BY later.stored_at, later.timestamp, later.event_id`;

type ReplayRow = { [Column in keyof EventRow]: EventRow[Column] | null };

/** The deployed stream's resume: what a reconnecting subscriber missed, read from the events table as its tenant. */
export class PgStreamReplay implements StreamReplaySource {
  constructor(
    private readonly db: SqlDatabase,
    private readonly maxEvents = RESUME_MAX_EVENTS,
  ) {}

  async eventsStoredAfter({ tenantId, after, until, filter }: ReplayRequest): Promise<Replay> {
    const rows = await inTenantTransaction(this.db, tenantId, (session) =>
      session.query<ReplayRow>(EVENTS_STORED_AFTER, [tenantId, after, RESUME_LATENESS_MS, until, this.maxEvents + 1]),
    );
    const stored = rows.filter((row): row is EventRow => row.event_id !== null);
    // As locally: past the bound the client queries the gap, so nothing is sent.
    if (rows.length === 0 || stored.length > this.maxEvents) return { events: [], complete: false };
    return { events: stored.map(toStoredEvent).filter((event) => matchesFilter(event, filter)), complete: true };
  }
}
