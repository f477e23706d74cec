import { PgEventQueries } from '../../lambdas/shared/adapters/pg/pg-event-queries.js';
import type { SqlDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';

/**
 * The reads on their fast paths and in the plain SQL they are checked against. The fast ones
 * build event sets for any stale event: small test data would otherwise always be read from
 * the table.
 */
export function queryPaths(db: SqlDatabase): { fast: PgEventQueries; raw: PgEventQueries } {
  return { fast: new PgEventQueries(db, { fastPaths: true, staleEventsReadFromTable: 0 }), raw: new PgEventQueries(db, { fastPaths: false }) };
}
