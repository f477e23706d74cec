import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { monthsAhead } from '../../lambdas/shared/domain/months.js';
import { seededRandom } from './generate-events.js';

const DAY = 86_400_000;
const COLUMNS = 'tenant_id, event_id, timestamp, event_type, category, action, label, value, user_id, session_id, properties, context, metadata, received_at, stored_at';

const TYPES = ['USER_ACTION', 'USER_ACTION', 'USER_ACTION', 'PERFORMANCE', 'SYSTEM_EVENT', 'ERROR', 'BUSINESS', 'CUSTOM', 'SECURITY'];
const CATEGORIES = ['navigation', 'checkout', 'auth', 'search', 'api', 'billing', 'profile', 'jobs'];
const ACTIONS = ['view', 'click', 'submit', 'fail', 'retry', 'complete'];
const PLANS = ['free', 'pro', 'team'];

/** CSV rows of one tenant over the 90 days before END, generated in chunks so that four million rows never sit in memory. */
function* csvChunks(tenantId: string, count: number, users: string[], seed: number, END: number): Generator<string> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  for (let start = 0; start < count; start += 20_000) {
    const lines: string[] = [];
    for (let index = start; index < Math.min(count, start + 20_000); index++) {
      const type = pick(TYPES);
      const timestamp = new Date(END - random() * 90 * DAY);
      const receivedAt = new Date(timestamp.getTime() + Math.floor(random() * 2000));
      const storedAt = new Date(receivedAt.getTime() + 50 + Math.floor(random() * 400));
      const value = type === 'PERFORMANCE' || type === 'BUSINESS' ? (random() * 2000).toFixed(2) : '';
      const properties = JSON.stringify({ page: `/p/${Math.floor(random() * 500)}`, plan: pick(PLANS), experiment: `e${Math.floor(random() * 20)}` }).replace(/"/g, '""');
      lines.push(
        `${tenantId},${randomUUID()},${timestamp.toISOString()},${type},${pick(CATEGORIES)},${pick(ACTIONS)},,${value},${pick(users)},s-${Math.floor(random() * 200_000)},"${properties}","{""locale"":""en""}","{}",${receivedAt.toISOString()},${storedAt.toISOString()}`,
      );
    }
    yield `${lines.join('\n')}\n`;
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
  /** VACUUM ANALYZE after the load instead of ANALYZE. */
  vacuum: boolean;
}

/**
 * Loads one tenant's events over 90 days and three other tenants' with COPY (not measured),
 * the rollups the writer would have kept, then ANALYZE (or VACUUM ANALYZE). Returns the user
 * ids the events were given.
 */
export async function loadEvents(client: pg.Client, { tenant: TENANT, events: EVENTS, others: OTHERS, end: END, vacuum }: BulkLoad): Promise<string[]> {
  const users = Array.from({ length: 20_000 }, () => randomUUID());
  const tenants: Array<[string, number]> = [[TENANT, EVENTS], ...Array.from({ length: 3 }, (): [string, number] => [randomUUID(), Math.floor(OTHERS / 3)])];
  const first = new Date(END - 91 * DAY);
  await client.query('SELECT ensure_event_partition(m::date) FROM unnest($1::text[]) m', [monthsAhead(first, 4)]);
  for (const [index, [tenantId, count]] of tenants.entries()) {
    const started = performance.now();
    await pipeline(Readable.from(csvChunks(tenantId, count, users, index + 1, END)), client.query(copyFrom(`COPY analytics_events (${COLUMNS}) FROM STDIN WITH (FORMAT csv)`)));
    console.log(`loaded ${count} events of tenant ${index + 1} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  // The rollups the writer would have kept.
  await client.query(`INSERT INTO event_rollups (tenant_id, granularity, period_start, event_type, category, action, count, value_count, total_value, min_value, max_value)
    SELECT tenant_id, g, date_trunc(g, timestamp, 'UTC'), event_type, category, action, count(*), count(value), coalesce(sum(value), 0), min(value), max(value)
    FROM analytics_events CROSS JOIN (VALUES ('hour'), ('day')) AS grains(g) GROUP BY 1, 2, 3, 4, 5, 6`);
  // --vacuum: the steady state autovacuum reaches after a bulk insert (visibility map set, so
  // counts can be index-only); without it, the state right after the load.
  await client.query(vacuum ? 'VACUUM ANALYZE' : 'ANALYZE');
  return users;
}
