// The seven questions of `bench:query`, each asked of us (in process through the use cases, or
// through the local HTTP runtime) and of DuckDB with the same exact semantics, and both answers
// reduced to one comparable form so that a mismatch names the figure that differs.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Aggregation, EventPage, EventTypeSummary } from '../../lambdas/shared/domain/answer-schemas.js';
import { encodeCursor, type CursorPosition } from '../../lambdas/shared/domain/query-cursor.js';
import { EventQuerySchema } from '../../lambdas/shared/domain/query-schemas.js';
import type { EventQueries } from '../../lambdas/shared/ports/event-queries.js';
import { aggregateEvents, queryEvents, summariseEventTypes } from '../../lambdas/shared/use-cases/query-events.js';

export type Kind = 'events' | 'aggregate' | 'event-types';

/** Whoever answers our side: the use cases in this process, or a server over HTTP. */
export type Ask = (kind: Kind, body: Record<string, unknown>) => Promise<unknown>;

export function askInProcess(queries: EventQueries, tenantId: string): Ask {
  const who = { tenantId, subject: 'bench' };
  const settings = { eventRetentionDays: 90 };
  return (kind, body) => {
    if (kind === 'events') return queryEvents(queries, who, body, settings);
    if (kind === 'aggregate') return aggregateEvents(queries, who, body, settings);
    return summariseEventTypes(queries, who, body, settings);
  };
}

/** As a dashboard asks: JSON over HTTP with a bearer token; anything but a 200 is a failed read. */
export function askOverHttp(baseUrl: string, token: string): Ask {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return async (kind, body) => {
    const response =
      kind === 'event-types'
        ? await fetch(`${baseUrl}/v1/analytics/event-types?${new URLSearchParams(body as Record<string, string>)}`, { headers })
        : await fetch(`${baseUrl}${kind === 'events' ? '/v1/events/query' : '/v1/analytics/aggregate'}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };
}

/** One figure of an answer, by a name that says where it is (`row 2026-11-01T00:00:00.000Z ERROR count`). */
export type Figures = Map<string, number | string | boolean | null>;

export interface Question {
  name: string;
  kind: Kind;
  body: Record<string, unknown>;
  /** The same question in DuckDB SQL, answered in our answer's comparable form. */
  duck(connection: DuckDBConnection): Promise<Figures>;
  figures(answer: unknown): Figures;
}

/** Table `events` in DuckDB: the measured tenant's events, timestamps as UTC TIMESTAMP. */
export const DUCK_COLUMNS = {
  event_id: 'VARCHAR',
  ts_ms: 'BIGINT',
  event_type: 'VARCHAR',
  category: 'VARCHAR',
  action: 'VARCHAR',
  label: 'VARCHAR',
  value: 'DOUBLE',
  user_id: 'VARCHAR',
  session_id: 'VARCHAR',
  properties: 'VARCHAR',
  context: 'VARCHAR',
  metadata: 'VARCHAR',
  received_ms: 'BIGINT',
  stored_ms: 'BIGINT',
} as const;

/** Loads the CSV (columns of `DUCK_COLUMNS`) sorted by time, as a column store would keep events. */
export async function loadDuck(connection: DuckDBConnection, csvPath: string): Promise<number> {
  const columns = Object.entries(DUCK_COLUMNS)
    .map(([name, type]) => `'${name}': '${type}'`)
    .join(', ');
  await connection.run(
    `CREATE TABLE events AS SELECT event_id, epoch_ms(ts_ms) AS ts, event_type, category, action, label, value, user_id, session_id,
       properties::JSON AS properties, context::JSON AS context, metadata::JSON AS metadata, epoch_ms(received_ms) AS received_at, epoch_ms(stored_ms) AS stored_at
     FROM read_csv('${csvPath}', header = false, columns = {${columns}}) ORDER BY ts`,
  );
  const reader = await connection.runAndReadAll('SELECT count(*) AS n FROM events');
  return Number(reader.getRowObjectsJson()[0]?.['n']);
}

type Json = Record<string, string | number | boolean | null | Json[] | (number | null)[]>;

async function rows(connection: DuckDBConnection, sql: string, values: Record<string, string | number> = {}): Promise<Json[]> {
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjectsJson() as Json[];
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

interface Range {
  startTime: string;
  endTime: string;
}

const rangeSql = `ts >= epoch_ms($start::BIGINT) AND ts <= epoch_ms($end::BIGINT)`;
const rangeValues = (range: Range) => ({ start: Date.parse(range.startTime), end: Date.parse(range.endTime) });

/** A page's total, whether there is more, and its event ids in order. */
function pageFigures(total: number, hasMore: boolean, ids: string[]): Figures {
  return new Map<string, string | number | boolean>([
    ['total', total],
    ['hasMore', hasMore],
    ['events', ids.length],
    ...ids.map((id, index): [string, string] => [`event ${index + 1}`, id]),
  ]);
}

const ourPage = (answer: unknown) => {
  const page = answer as EventPage;
  return pageFigures(page.total, page.hasMore, page.events.map((event) => event.eventId));
};

/** Page of 100 newest first, after a keyset position if given, and the total of the filters. */
function duckPage(where: string, values: Record<string, string | number>, after?: CursorPosition) {
  return async (connection: DuckDBConnection): Promise<Figures> => {
    const keyset = after ? ' AND (ts < epoch_ms($afterMs::BIGINT) OR (ts = epoch_ms($afterMs::BIGINT) AND event_id < $afterId))' : '';
    const keysetValues: Record<string, string | number> = after ? { afterMs: Date.parse(after.timestamp), afterId: after.eventId } : {};
    const [counted] = await rows(connection, `SELECT count(*) AS total FROM events WHERE ${where}`, values);
    const page = await rows(connection, `SELECT * FROM events WHERE ${where}${keyset} ORDER BY ts DESC, event_id DESC LIMIT 101`, { ...values, ...keysetValues });
    return pageFigures(Number(counted?.['total']), page.length > 100, page.slice(0, 100).map((row) => String(row['event_id'])));
  };
}

const STATISTICS = ['count', 'uniqueUsers', 'totalValue', 'avgValue', 'minValue', 'maxValue', 'p50', 'p95', 'p99'] as const;

function aggregateFigures(answer: Aggregation): Figures {
  const figures: Figures = new Map<string, number | null>([['rows', answer.data.length]]);
  for (const row of answer.data) {
    const key = `row ${row.period}${row.type ? ` ${row.type}` : ''}`;
    for (const statistic of STATISTICS) figures.set(`${key} ${statistic}`, row[statistic] ?? null);
  }
  for (const [name, value] of Object.entries(answer.summary)) figures.set(`summary ${name}`, value);
  return figures;
}

/** The aggregate's buckets (UTC) and summary, exactly: count(DISTINCT), quantile_cont. */
function duckAggregate(range: Range, granularity: 'hour' | 'day', byType: boolean) {
  return async (connection: DuckDBConnection): Promise<Figures> => {
    const group = byType ? ', event_type' : '';
    const values = rangeValues(range);
    const buckets = await rows(
      connection,
      `SELECT epoch_ms(date_trunc('${granularity}', ts)) AS period${group}, count(*) AS count, count(DISTINCT user_id) AS unique_users,
         coalesce(sum(value), 0) AS total_value, avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value,
         quantile_cont(value, [0.5, 0.95, 0.99]) FILTER (WHERE event_type = 'PERFORMANCE') AS percentiles
       FROM events WHERE ${rangeSql} GROUP BY ALL ORDER BY ALL`,
      values,
    );
    const [summary] = await rows(
      connection,
      `SELECT count(*) AS "totalEvents", count(DISTINCT user_id) AS "uniqueUsers", count(DISTINCT session_id) AS "uniqueSessions",
         count(DISTINCT category) AS categories, count(DISTINCT action) AS actions FROM events WHERE ${rangeSql}`,
      values,
    );
    return aggregateFigures({
      data: buckets.map((row) => {
        const [p50 = null, p95 = null, p99 = null] = (row['percentiles'] as (number | null)[] | null) ?? [];
        return {
          period: new Date(Number(row['period'])).toISOString(),
          count: Number(row['count']),
          uniqueUsers: Number(row['unique_users']),
          totalValue: Number(row['total_value']),
          avgValue: num(row['avg_value']),
          minValue: num(row['min_value']),
          maxValue: num(row['max_value']),
          p50,
          p95,
          p99,
          ...(byType ? { type: row['event_type'] as EventTypeSummary['type'] } : {}),
        };
      }),
      summary: {
        totalEvents: Number(summary?.['totalEvents']),
        uniqueUsers: Number(summary?.['uniqueUsers']),
        uniqueSessions: Number(summary?.['uniqueSessions']),
        categories: Number(summary?.['categories']),
        actions: Number(summary?.['actions']),
      },
    });
  };
}

/** Lags as the API rounds them; the raw DuckDB quantile is kept beside, for the comparison's rounding tolerance. */
function eventTypeFigures(summaries: EventTypeSummary[]): Figures {
  const figures: Figures = new Map<string, number | string>([['types', summaries.length]]);
  summaries.forEach((summary, index) => {
    figures.set(`type ${index + 1}`, summary.type);
    figures.set(`${summary.type} count`, summary.count);
    figures.set(`${summary.type} uniqueUsers`, summary.uniqueUsers);
    figures.set(`${summary.type} firstSeen`, summary.firstSeen);
    figures.set(`${summary.type} lastSeen`, summary.lastSeen);
    figures.set(`${summary.type} lag p50`, summary.ingestionLagMs.p50);
    figures.set(`${summary.type} lag p95`, summary.ingestionLagMs.p95);
  });
  return figures;
}

function duckEventTypes(range: Range) {
  return async (connection: DuckDBConnection): Promise<Figures> => {
    const summaries = await rows(
      connection,
      `SELECT event_type, count(*) AS count, count(DISTINCT user_id) AS unique_users, epoch_ms(min(ts)) AS first_seen, epoch_ms(max(ts)) AS last_seen,
         quantile_cont(epoch_ms(stored_at) - epoch_ms(received_at), [0.5, 0.95]) AS lag
       FROM events WHERE ${rangeSql} GROUP BY event_type ORDER BY count(*) DESC, event_type`,
      rangeValues(range),
    );
    return eventTypeFigures(
      summaries.map((row) => {
        const [p50 = 0, p95 = 0] = (row['lag'] as number[] | null) ?? [];
        return {
          type: row['event_type'] as EventTypeSummary['type'],
          count: Number(row['count']),
          uniqueUsers: Number(row['unique_users']),
          firstSeen: new Date(Number(row['first_seen'])).toISOString(),
          lastSeen: new Date(Number(row['last_seen'])).toISOString(),
          ingestionLagMs: { p50: Math.round(p50), p95: Math.round(p95) },
        };
      }),
    );
  };
}

export interface QuestionSetting {
  tenantId: string;
  /** The ranges end here (epoch ms). */
  end: number;
  someUser: string;
  /** The last event of page 19 of the 30-day listing: where page 20 starts. */
  page19End: CursorPosition;
}

const DAY = 86_400_000;

/** The cursor the API would hand out after page 19 (it binds the tenant and the filters, not a secret). */
function cursorAfter(tenantId: string, body: Record<string, unknown>, position: CursorPosition): string {
  const { limit: _limit, offset: _offset, cursor: _cursor, ...filters } = EventQuerySchema.parse(body);
  return encodeCursor(tenantId, filters, position);
}

/** The last event of page 19 of the 30-day listing, from DuckDB, so that finding it reads nothing of ours. */
export async function page19End(connection: DuckDBConnection, end: number): Promise<CursorPosition> {
  const [row] = await rows(connection, `SELECT event_id, epoch_ms(ts) AS ms FROM events WHERE ${rangeSql} ORDER BY ts DESC, event_id DESC LIMIT 1 OFFSET 1899`, rangeValues(lastDays(end, 30)));
  if (!row) throw new Error('fewer than 1,900 events in 30 days: page 20 is empty');
  return { timestamp: new Date(Number(row['ms'])).toISOString(), eventId: String(row['event_id']) };
}

const lastDays = (end: number, days: number): Range => ({ startTime: new Date(end - days * DAY).toISOString(), endTime: new Date(end).toISOString() });

export function questions({ tenantId, end, someUser, page19End: position }: QuestionSetting): Question[] {
  const last30 = lastDays(end, 30);
  const last7 = lastDays(end, 7);
  const last89 = lastDays(end, 89);
  const listing = { ...last30, limit: 100 };
  return [
    {
      name: 'type + category, 30 days',
      kind: 'events',
      body: { ...last30, eventTypes: ['USER_ACTION'], categories: ['checkout'], limit: 100 },
      duck: duckPage(`${rangeSql} AND event_type = 'USER_ACTION' AND category = 'checkout'`, rangeValues(last30)),
      figures: ourPage,
    },
    {
      name: 'property filter (plan=pro, experiment=e3), 30 days',
      kind: 'events',
      body: { ...last30, properties: { plan: 'pro', experiment: 'e3' }, limit: 100 },
      duck: duckPage(`${rangeSql} AND json_extract_string(properties, '$.plan') = 'pro' AND json_extract_string(properties, '$.experiment') = 'e3'`, rangeValues(last30)),
      figures: ourPage,
    },
    {
      name: 'userId filter, 89 days',
      kind: 'events',
      body: { ...last89, userId: someUser, limit: 100 },
      duck: duckPage(`${rangeSql} AND user_id = $user`, { ...rangeValues(last89), user: someUser }),
      figures: ourPage,
    },
    {
      name: 'page 20 by cursor, 30 days',
      kind: 'events',
      body: { ...listing, cursor: cursorAfter(tenantId, listing, position) },
      duck: duckPage(rangeSql, rangeValues(last30), position),
      figures: ourPage,
    },
    {
      name: 'aggregate day x 30 days by type',
      kind: 'aggregate',
      body: { ...last30, granularity: 'day', groupBy: ['event_type'] },
      duck: duckAggregate(last30, 'day', true),
      figures: (answer) => aggregateFigures(answer as Aggregation),
    },
    {
      name: 'aggregate hour x 7 days',
      kind: 'aggregate',
      body: { ...last7, granularity: 'hour' },
      duck: duckAggregate(last7, 'hour', false),
      figures: (answer) => aggregateFigures(answer as Aggregation),
    },
    {
      name: 'event-types summary, 30 days',
      kind: 'event-types',
      body: { ...last30 },
      duck: duckEventTypes(last30),
      figures: (answer) => eventTypeFigures(answer as EventTypeSummary[]),
    },
  ];
}

/** Equal as the API can answer: doubles to 1e-9 relative (a numeric sum against a double one), rounded lags to one unit. */
function same(name: string, ours: unknown, theirs: unknown): boolean {
  if (typeof ours === 'number' && typeof theirs === 'number') {
    if (name.includes(' lag ')) return Math.abs(ours - theirs) <= 1;
    return Math.abs(ours - theirs) <= 1e-9 * Math.max(1, Math.abs(ours), Math.abs(theirs));
  }
  return ours === theirs;
}

/** Every figure that differs, missing on one side included (at most `limit` listed). */
export function differences(ours: Figures, theirs: Figures, limit = 10): string[] {
  const found: string[] = [];
  for (const name of new Set([...ours.keys(), ...theirs.keys()])) {
    if (!same(name, ours.get(name), theirs.get(name))) found.push(`${name}: ours ${String(ours.get(name))}, DuckDB ${String(theirs.get(name))}`);
  }
  return found.length > limit ? [...found.slice(0, limit), `... ${found.length - limit} more`] : found;
}
