import { arrayPaths } from '../../domain/property-filter.js';
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
  ];
  if (filters.eventTypes) clauses.push(`event_type = ANY(${params.add(filters.eventTypes, '::text[]')})`);
  if (filters.categories) clauses.push(`category = ANY(${params.add(filters.categories, '::text[]')})`);
  if (filters.actions) clauses.push(`action = ANY(${params.add(filters.actions, '::text[]')})`);
  if (filters.userId) clauses.push(`user_id = ${params.add(filters.userId, '::uuid')}`);
  if (filters.sessionId) clauses.push(`session_id = ${params.add(filters.sessionId)}`);
  if (filters.properties) {
    // Containment is served by the GIN (jsonb_path_ops) index; arrays must also be equal.
    clauses.push(`properties @> ${params.add(JSON.stringify(filters.properties), '::jsonb')}`);
    for (const { path, value } of arrayPaths(filters.properties)) {
      clauses.push(`properties #> ${params.add(path, '::text[]')} = ${params.add(JSON.stringify(value), '::jsonb')}`);
    }
  }
  return clauses;
}
