import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { monthsAhead } from '../../lambdas/shared/domain/months.js';
import { csvField } from './csv.js';
import { seededRandom } from './generate-events.js';

const DAY = 86_400_000;
const COLUMNS = 'tenant_id, event_id, timestamp, event_type, category, action, label, value, user_id, session_id, properties, context, metadata, received_at, stored_at';

const TYPES = ['USER_ACTION', 'USER_ACTION', 'USER_ACTION', 'PERFORMANCE', 'SYSTEM_EVENT', 'ERROR', 'BUSINESS', 'CUSTOM', 'SECURITY'];
const CATEGORIES = ['navigation', 'checkout', 'auth', 'search', 'api', 'billing', 'profile', 'jobs'];
const ACTIONS = ['view', 'click', 'submit', 'fail', 'retry', 'complete'];
const PLANS = ['free', 'pro', 'team'];

/**
 * CSV rows of one tenant over the 90 days before `end`, generated in chunks so that four million
 * rows never sit in memory: for COPY into Postgres and, when asked, the same events for DuckDB
 * (instants as epoch ms).
 */
function* csvChunks(tenantId: string, count: number, users: string[], seed: number, end: number, withDuck: boolean): Generator<{ pg: string; duck: string }> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  for (let start = 0; start < count; start += 20_000) {
    const pgLines: string[] = [];
    const duckLines: string[] = [];
    for (let index = start; index < Math.min(count, start + 20_000); index++) {
      const type = pick(TYPES);
      const timestamp = new Date(end - random() * 90 * DAY);
      const receivedAt = new Date(timestamp.getTime() + Math.floor(random() * 2000));
      const storedAt = new Date(receivedAt.getTime() + 50 + Math.floor(random() * 400));
      const value = type === 'PERFORMANCE' || type === 'BUSINESS' ? (random() * 2000).toFixed(2) : '';
      const properties = csvField({ page: `/p/${Math.floor(random() * 500)}`, plan: pick(PLANS), experiment: `e${Math.floor(random() * 20)}` });
      const [eventId, category, action, userId, sessionId] = [randomUUID(), pick(CATEGORIES), pick(ACTIONS), pick(users), `s-${Math.floor(random() * 200_000)}`];
      const context = csvField({ locale: 'en' });
      pgLines.push(`${tenantId},${eventId},${timestamp.toISOString()},${type},${category},${action},,${value},${userId},${sessionId},${properties},${context},"{}",${receivedAt.toISOString()},${storedAt.toISOString()}`);
      if (withDuck) duckLines.push(`${eventId},${timestamp.getTime()},${type},${category},${action},,${value},${userId},${sessionId},${properties},${context},"{}",${receivedAt.getTime()},${storedAt.getTime()}`);
    }
    yield { pg: `${pgLines.join('\n')}\n`, duck: withDuck ? `${duckLines.join('\n')}\n` : '' };
  }
}

export interface BulkLoad {
  /** The measured tenant. */
  tenant: string;
  events: number;
  /** Events of three other tenants, in all. */
  others: number;
  /** The newest instant, in ms; events spread over the 90 days before it. */
  end: number;
  /**
   * After the load: `vacuum` is the steady state autovacuum reaches after a bulk insert
   * (visibility map set, so counts can be index-only); `analyze` statistics only; `fresh`
   * the state right after an ingest, as an administrator meets it: no VACUUM, and statistics
   * only as the writer keeps them (`analyze_grown_tables`, migrations 0017 and 0018, which a writer
   * calls after its commits; the bench's COPY bypasses the writer, so it calls it once).
   */
  state: 'vacuum' | 'analyze' | 'fresh';
  /** A file to write the measured tenant's events to, for DuckDB. */
  duckCsv?: string;
}

export interface Loaded {
  /** The user ids the events were given (every tenant's from the same ones). */
  users: string[];
  /** The three other tenants. */
  otherTenants: string[];
}

/**
 * Loads one tenant's events over 90 days and three other tenants' with COPY (not measured),
 * the rollups the writer would have kept, then the `state` asked for.
 */
export async function loadEvents(client: pg.Client, { tenant, events, others, end, state, duckCsv }: BulkLoad): Promise<Loaded> {
  const users = Array.from({ length: 20_000 }, () => randomUUID());
  const tenants: Array<[string, number]> = [[tenant, events], ...Array.from({ length: 3 }, (): [string, number] => [randomUUID(), Math.floor(others / 3)])];
  const first = new Date(end - 91 * DAY);
  await client.query('SELECT ensure_event_partition(m::date) FROM unnest($1::text[]) m', [monthsAhead(first, 4)]);
  if (duckCsv) writeFileSync(duckCsv, '');
  for (const [index, [tenantId, count]] of tenants.entries()) {
    const started = performance.now();
    const measured = duckCsv !== undefined && tenantId === tenant;
    const rows = function* () {
      for (const chunk of csvChunks(tenantId, count, users, index + 1, end, measured)) {
        if (measured) appendFileSync(duckCsv, chunk.duck);
        yield chunk.pg;
      }
    };
    await pipeline(Readable.from(rows()), client.query(copyFrom(`COPY analytics_events (${COLUMNS}) FROM STDIN WITH (FORMAT csv)`)));
    console.log(`loaded ${count} events of tenant ${index + 1} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  // The hour and day rollups the writer would have kept, per category and action and per type (migration 0019).
  await client.query(`INSERT INTO event_rollups (tenant_id, granularity, period_start, event_type, category, action, count, value_count, total_value, min_value, max_value)
    SELECT tenant_id, prefix || g, date_trunc(g, timestamp, 'UTC'), event_type, CASE prefix WHEN '' THEN category ELSE '' END,
      CASE prefix WHEN '' THEN action ELSE '' END, count(*), count(value), coalesce(sum(value), 0), min(value), max(value)
    FROM analytics_events CROSS JOIN (VALUES ('hour'), ('day')) AS grains(g) CROSS JOIN (VALUES (''), ('type_')) AS levels(prefix) GROUP BY 1, 2, 3, 4, 5, 6`);
  await client.query(state === 'vacuum' ? 'VACUUM ANALYZE' : state === 'analyze' ? 'ANALYZE' : 'SELECT analyze_grown_tables()');
  return { users, otherTenants: tenants.slice(1).map(([tenantId]) => tenantId) };
}
