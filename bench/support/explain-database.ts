import type { SqlDatabase, SqlSession } from '../../lambdas/shared/adapters/pg/sql-database.js';

/** A statement of a read and its `EXPLAIN (ANALYZE, BUFFERS)`. */
export interface Explained {
  sql: string;
  plan: string;
}

/** Reads only: `EXPLAIN ANALYZE` runs the statement, so anything that writes is left unexplained. */
const isRead = (sql: string) => /^\s*(SELECT|WITH)\b/i.test(sql) && !/\b(INSERT|UPDATE|DELETE)\b|set_config\(|pg_advisory/i.test(sql);

/**
 * `db` whose transactions explain each read statement in the same transaction before running
 * it, with its parameters: what the query adapter sends, as it sends it.
 */
export function explainingDatabase(db: SqlDatabase, explained: Explained[]): SqlDatabase {
  const explaining = (session: SqlSession): SqlSession => ({
    ...session,
    query: async <Row extends object>(text: string, params?: unknown[]) => {
      if (isRead(text)) {
        const plan = await session.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
        explained.push({ sql: text, plan: plan.map((row) => row['QUERY PLAN']).join('\n') });
      }
      return session.query<Row>(text, params);
    },
  });
  return {
    ...explaining(db),
    exec: (script) => db.exec(script),
    copyRows: (table, columns, rows) => db.copyRows(table, columns, rows),
    transaction: (work, options) => db.transaction((session) => work(explaining(session)), options),
    withConnection: (work) => db.withConnection((session) => work(explaining(session))),
    close: () => db.close(),
  };
}
