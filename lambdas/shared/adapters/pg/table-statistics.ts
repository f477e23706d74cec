import { describeError, log } from '../../logger.js';
import type { SqlSession } from './sql-database.js';

/**
 * Analyzes the partitions, the member dictionary and the event sets (or the last two alone)
 * that grew a tenth since their last ANALYZE (migrations 0017 and 0018), so that the next read is planned on statistics
 * even where no autovacuum runs. Never fails its caller, whose work is already committed: a
 * failure is logged.
 */
export async function analyzeGrownTables(db: SqlSession, only: 'every table' | 'event sets' = 'every table'): Promise<void> {
  try {
    await db.query(only === 'event sets' ? `SELECT analyze_grown_tables(ARRAY['set_members', 'event_sets']::regclass[])` : 'SELECT analyze_grown_tables()');
  } catch (error) {
    log('warn', 'table statistics not refreshed', describeError(error));
  }
}
