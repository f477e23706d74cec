import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { describeError, log } from '../../logger.js';

/** What the pg adapters need of a connection: parameterised queries and whole SQL scripts. */
export interface SqlSession {
  query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Bulk-loads rows in COPY text format into `table` (`columns` in the rows' order) and
   * answers how many there were. Runs as the session user: PGlite reads the rows as a file.
   */
  copyRows(table: string, columns: string, rows: string): Promise<number>;
}

export interface TransactionOptions {
  /** Every statement sees the same committed data (REPEATABLE READ). */
  oneSnapshot?: boolean;
}

/** A Postgres server (pg pool) or embedded PGlite, behind one interface. */
export interface SqlDatabase extends SqlSession {
  transaction<T>(work: (session: SqlSession) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `work` on one connection of its own, outside a transaction: for statements that refuse
   * a transaction block (`DETACH PARTITION ... CONCURRENTLY`) and what must stay on the session
   * (`SET lock_timeout`, a session advisory lock). PGlite has one session, shared by every caller.
   */
  withConnection<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function clientSession(client: pg.PoolClient): SqlSession {
  return {
    query: async <Row extends object>(text: string, params?: unknown[]) => (await client.query<Row>(text, params)).rows,
    exec: async (script: string) => {
      await client.query(script);
    },
    copyRows: async (table: string, columns: string, rows: string) => {
      const copy = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`));
      await pipeline(Readable.from([rows]), copy);
      return copy.rowCount;
    },
  };
}

export class PgPoolDatabase implements SqlDatabase {
  constructor(private readonly pool: pg.Pool) {
    // A connection the server drops (failover, RDS Proxy idle timeout, a terminated backend)
    // emits 'error': on the pool while idle, on the client itself while checked out (the pool
    // detaches its own listener then). Without a listener Node treats it as an uncaught
    // exception and ends the container. The pool discards the client either way, and a query
    // in flight on it rejects, so its transaction fails and is retried like any other.
    pool.on('error', (error) => log('warn', 'idle database connection lost', describeError(error)));
    pool.on('connect', (client) => {
      client.on('error', (error) => log('warn', 'database connection lost', describeError(error)));
    });
  }

  async query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]> {
    const result = await this.pool.query<Row>(text, params);
    return result.rows;
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  copyRows(table: string, columns: string, rows: string): Promise<number> {
    return this.transaction((session) => session.copyRows(table, columns, rows));
  }

  async withConnection<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      const result = await work(clientSession(client));
      client.release();
      return result;
    } catch (error) {
      // Whatever the work left on the session (a setting, a lock) must not reach another caller.
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    const session = clientSession(client);
    try {
      // In BEGIN rather than a SET TRANSACTION after it: one round trip, and no SET statement
      // for RDS Proxy to pin the connection on.
      await client.query(options.oneSnapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ' : 'BEGIN');
      const result = await work(session);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      // A connection whose ROLLBACK failed is in an unknown state: destroy it, never reuse it.
      const rollbackError = await client.query('ROLLBACK').then(
        () => undefined,
        (failure: unknown) => (failure instanceof Error ? failure : new Error(String(failure))),
      );
      client.release(rollbackError);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function pgliteSession(target: PGlite | Transaction): SqlSession {
  return {
    query: async <Row extends object>(text: string, params?: unknown[]) => (await target.query<Row>(text, params)).rows,
    exec: async (script: string) => {
      await target.exec(script);
    },
    copyRows: async (table: string, columns: string, rows: string) => {
      const result = await target.query(`COPY ${table} (${columns}) FROM '/dev/blob'`, [], { blob: new Blob([rows]) });
      return result.affectedRows ?? 0;
    },
  };
}

export class PgliteDatabase implements SqlDatabase {
  private readonly session: SqlSession;

  constructor(private readonly db: PGlite) {
    this.session = pgliteSession(db);
  }

  query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]> {
    return this.session.query<Row>(text, params);
  }

  exec(script: string): Promise<void> {
    return this.session.exec(script);
  }

  copyRows(table: string, columns: string, rows: string): Promise<number> {
    return this.session.copyRows(table, columns, rows);
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    // PGlite begins the transaction itself: the isolation level is its first statement.
    return this.db.transaction(async (tx) => {
      if (options.oneSnapshot) await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      return work(pgliteSession(tx));
    });
  }

  withConnection<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return work(this.session);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export interface DatabaseOptions {
  /** A Postgres URL; without one (and without `connection`), embedded PGlite is used. */
  databaseUrl?: string;
  /** Explicit connection settings (AWS: RDS Proxy host and Secrets Manager credentials). */
  connection?: pg.ClientConfig;
  /** PGlite's data folder; without one, PGlite keeps everything in memory. */
  pgliteDataDir?: string;
  /** Pool size per container; writers x pool size must stay under Aurora's connection limit. */
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<SqlDatabase> {
  if (options.databaseUrl || options.connection) {
    return new PgPoolDatabase(new pg.Pool({ connectionString: options.databaseUrl, ...options.connection, max: options.poolSize ?? 4 }));
  }
  const { PGlite } = await import('@electric-sql/pglite');
  // Migration 0005 creates btree_gin; PGlite ships it as a bundle loaded at start.
  const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
  return new PgliteDatabase(await PGlite.create({ dataDir: options.pgliteDataDir, extensions: { btree_gin } }));
}
