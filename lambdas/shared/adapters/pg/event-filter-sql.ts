import { arrayPaths } from '../../domain/property-filter.js';
import type { EventsSource } from '../../domain/query-plan.js';
import type { RollupSplit } from '../../domain/rollup-ranges.js';
import type { EventFilters } from '../../ports/event-queries.js';

/** Collects `$n` parameters: every value reaches SQL as a parameter, never as text. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

/** The WHERE clauses shared by every read; the tenant is explicit on top of row-level security. */
export function whereClauses(params: Params, tenantId: string, filters: EventFilters): string[] {
  const clauses = [
    `tenant_id = ${params.add(tenantId, '::uuid')}`,
    `timestamp >= ${params.add(filters.startTime, '::timestamptz')}`,
    `timestamp <= ${params.add(filters.endTime, '::timestamptz')}`,
    ...dimensionClauses(params, filters),
  ];
  // Presence, not truthiness: an empty id is a filter that matches nothing, never no filter.
  if (filters.userId !== undefined) clauses.push(`user_id = ${params.add(filters.userId, '::uuid')}`);
  if (filters.sessionId !== undefined) clauses.push(`session_id = ${params.add(filters.sessionId)}`);
  if (filters.properties) {
    // Containment is served by the GIN (jsonb_path_ops) index; arrays must also be equal.
    clauses.push(`properties @> ${params.add(JSON.stringify(filters.properties), '::jsonb')}`);
    for (const { path, value } of arrayPaths(filters.properties)) {
      clauses.push(`properties #> ${params.add(path, '::text[]')} = ${params.add(JSON.stringify(value), '::jsonb')}`);
    }
  }
  return clauses;
}

/**
 * The FROM and WHERE of a read's events: the table and every filter, or from the search
 * function (migration 0007) the rows of a property filter. That function applies the property
 * filter (containment and exact arrays) itself and returns no jsonb; the tenant and the range
 * are repeated outside. Named `analytics_events` either way.
 */
export function eventsFrom(params: Params, tenantId: string, filters: EventFilters, source: EventsSource): { from: string; where: string[] } {
  const { properties, ...rest } = filters;
  if (source === 'table' || !properties) return { from: 'analytics_events', where: whereClauses(params, tenantId, filters) };
  const args = [
    params.add(tenantId, '::uuid'),
    params.add(JSON.stringify(properties), '::jsonb'),
    params.add(JSON.stringify(arrayPaths(properties)), '::jsonb'),
    params.add(filters.startTime, '::timestamptz'),
    params.add(filters.endTime, '::timestamptz'),
  ];
  return { from: `events_with_properties(${args.join(', ')}) AS analytics_events`, where: whereClauses(params, tenantId, rest) };
}

/** Type, category and action: the columns the events and the rollups share. */
function dimensionClauses(params: Params, filters: EventFilters): string[] {
  const clauses: string[] = [];
  if (filters.eventTypes) clauses.push(`event_type = ANY(${params.add(filters.eventTypes, '::text[]')})`);
  if (filters.categories) clauses.push(`category = ANY(${params.add(filters.categories, '::text[]')})`);
  if (filters.actions) clauses.push(`action = ANY(${params.add(filters.actions, '::text[]')})`);
  return clauses;
}

/**
 * Which rollup rows a read sums: those per type, category and action, or the totals per type
 * (`type_hour`, `type_day`, migration 0019), a few hundred rows where the others are tens of
 * thousands, for reads that neither filter nor group by category or action.
 */
export type RollupLevel = 'by-dimension' | 'by-type';

/** The totals per type serve the filters unless they name categories or actions. */
export const rollupLevelFor = (filters: Pick<EventFilters, 'categories' | 'actions'>): RollupLevel =>
  filters.categories || filters.actions ? 'by-dimension' : 'by-type';

/**
 * The events of a split's partial hours `[startTime, hourStart)` and `[hourEnd, endTime]` that
 * match `where` (built on the same `params`), as a FROM item named `analytics_events` with
 * `columns`: one index range scan per edge. As one WHERE (`timestamp < hourStart OR timestamp >=
 * hourEnd`) the planner estimated the last hour by the share of every tenant's rows in it, and
 * beside another tenant's live writes it scanned all of this tenant's rows of the month (39,682
 * rows for 430, 11 ms of a 12 ms statement, day x 30 with `--load 2`). `OFFSET 0` keeps each
 * range a scan of its own.
 */
export function edgeEventsFrom(params: Params, where: string, range: { startTime: string; endTime: string }, split: RollupSplit, columns: string): string {
  // The range's end is inclusive (`where` keeps it so): its edge ends 1 ms after it.
  const from = params.add([range.startTime, split.hourEnd], '::timestamptz[]');
  const to = params.add([split.hourStart, new Date(Date.parse(range.endTime) + 1).toISOString()], '::timestamptz[]');
  return `unnest(${from}, ${to}) AS edge(edge_from, edge_to) CROSS JOIN LATERAL (
      SELECT ${columns} FROM analytics_events WHERE ${where} AND timestamp >= edge_from AND timestamp < edge_to OFFSET 0
    ) AS analytics_events`;
}

/** The pieces of a split range that the rollups answer: the WHERE of the rollup rows of each grain at `level`. */
export function splitClauses(params: Params, tenantId: string, filters: EventFilters, split: RollupSplit, level: RollupLevel = 'by-dimension'): { hours: string; days: string } {
  if (level === 'by-type' && rollupLevelFor(filters) !== 'by-type') throw new Error('the totals per type cannot filter by category or action');
  const prefix = level === 'by-type' ? 'type_' : '';
  const hourStart = params.add(split.hourStart, '::timestamptz');
  const hourEnd = params.add(split.hourEnd, '::timestamptz');
  const dayStart = params.add(split.dayStart, '::timestamptz');
  const dayEnd = params.add(split.dayEnd, '::timestamptz');
  const common = [`tenant_id = ${params.add(tenantId, '::uuid')}`, ...dimensionClauses(params, filters)].join(' AND ');
  return {
    // Two ranges, not [hourStart, hourEnd) AND NOT the days: that form was an index range over
    // every hour of the range, filtered (169k rollup rows read for 5k, 30 days of bench data).
    hours: `${common} AND granularity = '${prefix}hour'
      AND ((period_start >= ${hourStart} AND period_start < ${dayStart}) OR (period_start >= ${dayEnd} AND period_start < ${hourEnd}))`,
    days: `${common} AND granularity = '${prefix}day' AND period_start >= ${dayStart} AND period_start < ${dayEnd}`,
  };
}

/** The WHERE of the day rollup rows per type, category and action of the days in `ranges` (each `[from, to)`, possibly empty). */
export function dayRollupsIn(params: Params, tenantId: string, filters: EventFilters, ranges: ReadonlyArray<readonly [string, string]>): string {
  const common = [`tenant_id = ${params.add(tenantId, '::uuid')}`, ...dimensionClauses(params, filters)].join(' AND ');
  const within = ranges.map(([from, to]) => `(period_start >= ${params.add(from, '::timestamptz')} AND period_start < ${params.add(to, '::timestamptz')})`);
  return `${common} AND granularity = 'day' AND (${within.join(' OR ')})`;
}
