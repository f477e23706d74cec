import type { SqlDatabase, SqlSession, TransactionOptions } from '../../lambdas/shared/adapters/pg/sql-database.js';

/**
 * Wraps a database so that, once armed, write statements start failing after a given number
 * of successes, for a given number of statements: a database that dies mid-batch and comes back.
 */
export class FlakyDatabase implements SqlDatabase {
  private succeedBeforeOutage = Infinity;
  private failuresLeft = 0;
  failuresThrown = 0;

  constructor(private readonly inner: SqlDatabase) {}

  /** After `healthyWrites` more write statements, fail the next `failingWrites`. */
  outage(healthyWrites: number, failingWrites: number): void {
    this.succeedBeforeOutage = healthyWrites;
    this.failuresLeft = failingWrites;
  }

  query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]> {
    return this.inner.query<Row>(text, params);
  }

  exec(script: string): Promise<void> {
    return this.inner.exec(script);
  }

  copyRows(table: string, columns: string, rows: string): Promise<number> {
    return this.inner.copyRows(table, columns, rows);
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.inner.transaction((session) =>
      work({
        exec: (script) => session.exec(script),
        copyRows: (table, columns, rows) => session.copyRows(table, columns, rows),
        query: async <Row extends object>(text: string, params?: unknown[]) => {
          if (text.includes('INSERT INTO analytics_events')) this.beforeWrite();
          return session.query<Row>(text, params);
        },
      }),
      options,
    );
  }

  withConnection<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.inner.withConnection(work);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private beforeWrite(): void {
    if (this.succeedBeforeOutage > 0) {
      this.succeedBeforeOutage -= 1;
      return;
    }
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      this.failuresThrown += 1;
      throw new Error('terminating connection due to administrator command');
    }
  }
}
