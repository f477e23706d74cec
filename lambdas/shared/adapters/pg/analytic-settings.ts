import { ValidationError } from '../../domain/errors.js';
import type { SqlSession } from './sql-database.js';

/** A query that runs longer than this is cancelled: one analyst cannot hold the database. */
const STATEMENT_TIMEOUT_MS = 10_000;

/** Postgres: 'time zone "US/Pacific-New" not recognized' (invalid_parameter_value). */
function isUnknownTimeZone(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === '22023' && /time zone .* not recognized/.test(error.message);
}

export interface AnalyticSettings {
  timeZone?: string;
  readsSets?: boolean;
}

/**
 * Transaction-local settings for statements that read a month of a tenant's events. Aggregates
 * sort such a month: 4 MB (the default) spills it to disk, and JIT compilation costs ~20 ms on
 * queries that run well below a second (measured, 1M events).
 *
 * `timeZone`, for a read that buckets in a zone, is checked in the same round trip: Node
 * accepts names the database may not know (ICU keeps `US/Pacific-New`, which tzdata dropped
 * in 2020), and such a name is the caller's mistake, a 400, not a failed statement later on.
 *
 * `readsSets`, for the reads of event sets: no parallel workers. Their statements read a few
 * hundred rows of sets, each a few kB to a few hundred kB, and a parallel plan ships those
 * bytes through the workers' tuple queue: 63 of the 64 ms of the states of 30 days of day sets
 * by type (364 rows), whose scans took 1.3 ms (bench:query, 1M events).
 */
export async function tuneForAnalytics(session: SqlSession, { timeZone, readsSets = false }: AnalyticSettings = {}): Promise<void> {
  const settings = [
    `set_config('statement_timeout', $1, true), set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`,
    ...(readsSets ? [`set_config('max_parallel_workers_per_gather', '0', true)`] : []),
  ].join(', ');
  try {
    await session.query(
      timeZone === undefined ? `SELECT ${settings}` : `SELECT ${settings}, now() AT TIME ZONE $2`,
      timeZone === undefined ? [String(STATEMENT_TIMEOUT_MS)] : [String(STATEMENT_TIMEOUT_MS), timeZone],
    );
  } catch (error) {
    if (isUnknownTimeZone(error)) throw new ValidationError([{ path: 'timezone', message: 'is not a time zone the database knows' }]);
    throw error;
  }
}
