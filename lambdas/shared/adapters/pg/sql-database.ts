import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseUnavailableError } from '../../domain/errors.js';
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

/**
 * Runs `work` while `pending` (a statement already sent) is being answered, then awaits it: the
 * server executes while this process computes. A session sends a statement when it is asked,
 * one at a time, so only the one in flight overlaps. A throw of `work` waits for `pending` to
 * settle first, so its rejection is never left unhandled.
 */
export async function whilePending<T, U>(pending: Promise<T>, work: () => U): Promise<[T, U]> {
  let done: U;
  try {
    done = work();
  } catch (error) {
    await pending.catch(() => undefined);
    throw error;
  }
  return [await pending, done];
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

/** Aurora Serverless v2 resumes from a pause in about 15 s (up to 30 s): the Retry-After a caller is given. */
export const RESUME_SECONDS = 15;

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

/** Socket errors of a server that is not there yet; Postgres's 57P03 is "the database system is starting up". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', '57P03']);
// What pg throws when its connectionTimeoutMillis ends a connection attempt, or the server hangs up during one.
const UNREACHABLE_MESSAGES = ['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout', 'Connection terminated unexpectedly'];

/** Whether a failed connection attempt says the server cannot be reached now, rather than that we are wrong (auth, config). */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isUnreachable);
  return UNREACHABLE_MESSAGES.some((message) => error.message.includes(message));
}

/** A connection the server dropped under a statement (a restart, a failover) is the database being unavailable too. */
function lostConnection(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError || !isUnreachable(error)) return error;
  return new DatabaseUnavailableError(RESUME_SECONDS, 'The database connection was lost (the database may be restarting); retry after the Retry-After delay.');
}

/** How long a caller waits for a database that refuses or holds its connections (paused, resuming). */
export interface ConnectWait {
  /** At most this long, then `DatabaseUnavailableError`; 0 fails at the first refusal. */
  waitMs: number;
  /** Between refused attempts. */
  retryMs?: number;
  /** The first connection of a container taking longer than this is logged as the database waking up. */
  wakeLogMs?: number;
}

const DEFAULT_WAIT: Required<ConnectWait> = { waitMs: 0, retryMs: 500, wakeLogMs: 2_000 };

export class PgPoolDatabase implements SqlDatabase {
  private readonly wait: Required<ConnectWait>;
  private connectedOnce = false;

  constructor(
    private readonly pool: pg.Pool,
    wait: ConnectWait = { waitMs: 0 },
  ) {
    this.wait = { ...DEFAULT_WAIT, ...wait };
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

  /**
   * A pooled connection, waiting up to the bound for a server that refuses or holds the
   * attempt. Only connecting is retried: a statement that failed may have done its work.
   */
  private async connect(): Promise<pg.PoolClient> {
    const started = Date.now();
    for (;;) {
      try {
        const client = await this.pool.connect();
        const tookMs = Date.now() - started;
        if (!this.connectedOnce && tookMs >= this.wait.wakeLogMs) log('info', 'database woke up', { firstConnectMs: tookMs });
        this.connectedOnce = true;
        return client;
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        const waitedMs = Date.now() - started;
        if (waitedMs + this.wait.retryMs > this.wait.waitMs) {
          throw new DatabaseUnavailableError(
            Math.max(1, Math.ceil(RESUME_SECONDS - waitedMs / 1000)),
            `The database did not answer within ${Math.round(waitedMs / 1000)} s (it may be resuming from a pause); retry after the Retry-After delay.`,
          );
        }
        await sleep(this.wait.retryMs);
      }
    }
  }

  private async onClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      const result = await work(client);
      client.release();
      return result;
    } catch (error) {
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw lostConnection(error);
    }
  }

  query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]> {
    return this.onClient(async (client) => (await client.query<Row>(text, params)).rows);
  }

  exec(script: string): Promise<void> {
    return this.onClient(async (client) => {
      await client.query(script);
    });
  }

  copyRows(table: string, columns: string, rows: string): Promise<number> {
    return this.transaction((session) => session.copyRows(table, columns, rows));
  }

  withConnection<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    // A failed work's connection is destroyed: whatever it left on the session (a setting, a
    // lock) must not reach another caller.
    return this.onClient((client) => work(clientSession(client)));
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.connect();
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
      throw lostConnection(error);
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
  /** How long to wait for a server that is not answering yet; by default not at all. */
  connectWait?: ConnectWait;
}

export async function openDatabase(options: DatabaseOptions): Promise<SqlDatabase> {
  if (options.databaseUrl || options.connection) {
    const waitMs = options.connectWait?.waitMs ?? 0;
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      ...options.connection,
      max: options.poolSize ?? 4,
      // An attempt the server holds (Aurora resuming holds it rather than refusing) ends with the wait.
      ...(waitMs > 0 ? { connectionTimeoutMillis: waitMs } : {}),
    });
    return new PgPoolDatabase(pool, options.connectWait);
  }
  const { PGlite } = await import('@electric-sql/pglite');
  // Migration 0005 creates btree_gin; PGlite ships it as a bundle loaded at start.
  const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
  return new PgliteDatabase(await PGlite.create({ dataDir: options.pgliteDataDir, extensions: { btree_gin } }));
}
