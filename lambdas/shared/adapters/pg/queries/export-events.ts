import type { CursorPosition } from '../../../domain/query-cursor.js';
import type { EventFilters } from '../../../ports/event-queries.js';
import type { StoredEvent } from '../../../ports/event-store.js';
import { Params, whereClauses } from '../event-filter-sql.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from '../event-rows.js';
import type { SqlSession } from '../sql-database.js';
import { pageSql } from './find-events.js';

/**
 * One keyset page of an export: the matches after `after` in the export's order. From the
 * table with every filter, a property filter included: in time order the scan stops at the
 * page's last match, so the pages of an export read the range about once, where the search
 * function would hand over every match of the range for each page.
 */
export async function exportPage(
  session: SqlSession,
  tenantId: string,
  filters: EventFilters,
  page: { order: 'asc' | 'desc'; after: CursorPosition | undefined; limit: number },
): Promise<StoredEvent[]> {
  const params = new Params();
  const rows = await session.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM analytics_events WHERE ${pageSql(params, whereClauses(params, tenantId, filters), { ...page, offset: 0 })}`,
    params.values,
  );
  return rows.map(toStoredEvent);
}
