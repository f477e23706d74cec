import { PgEventQueries } from '../../lambdas/shared/adapters/pg/pg-event-queries.js';
import type { SqlDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';

/**
 * The reads on their fast paths and in the plain SQL they are checked against. The fast ones
 * read any stale period from the events beside the fresh sets, never handing the whole read to
 * the plain path: both halves of the set path are what is checked. Their tests write through a
 * store that keeps the sets after every write (`setKeepingMs: 0`).
 */
export function queryPaths(db: SqlDatabase): { fast: PgEventQueries; raw: PgEventQueries } {
  return { fast: new PgEventQueries(db, { fastPaths: true, staleEventsReadFromTable: Number.POSITIVE_INFINITY }), raw: new PgEventQueries(db, { fastPaths: false }) };
}
