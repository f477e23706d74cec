import type { SqlDatabase, SqlSession } from '../../lambdas/shared/adapters/pg/sql-database.js';

/** `db`, except that `before` runs once, just before the first statement that contains `marker`. */
export function interrupting(db: SqlDatabase, marker: string, before: () => Promise<unknown>): SqlDatabase {
  let done = false;
  return {
    query: (text, params) => db.query(text, params),
    exec: (script) => db.exec(script),
    copyRows: (table, columns, rows) => db.copyRows(table, columns, rows),
    close: () => db.close(),
    withConnection: (work) => db.withConnection(work),
    transaction: (work, options) =>
      db.transaction((session) => {
        const wrapped: SqlSession = {
          exec: (script) => session.exec(script),
          copyRows: (table, columns, rows) => session.copyRows(table, columns, rows),
          query: async (text, params) => {
            if (!done && text.includes(marker)) {
              done = true;
              await before();
            }
            return session.query(text, params);
          },
        };
        return work(wrapped);
      }, options),
  };
}
