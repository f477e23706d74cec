import { planAggregate, planAggregateOnEvents, planEventTypes, planFind } from '../../domain/query-plan.js';
import type { AggregationQuery } from '../../domain/query-schemas.js';
import type { Aggregation, ErrorGroup, StoredEvent } from '../../domain/answer-schemas.js';
import type { CursorPosition } from '../../domain/query-cursor.js';
import type { ErrorGroupsQuery } from '../../domain/query-schemas.js';
import type { Actor } from '../../domain/caller.js';
import type { EventFilters, EventQueries, EventsPage, EventTypeSummary, ExportOptions, PageRequest } from '../../ports/event-queries.js';
import { emitCounts, METRIC } from '../../metrics.js';
import { tuneForAnalytics, type AnalyticSettings } from './analytic-settings.js';
import { StaleSetsError } from './pg-event-sets.js';
import { aggregateFromEvents, aggregateFromSets } from './queries/aggregate-events.js';
import { errorGroups } from './queries/error-groups.js';
import { eventTypesFromEvents, eventTypesFromSets } from './queries/event-types.js';
import { exportPage } from './queries/export-events.js';
import { findEvents } from './queries/find-events.js';
import type { SqlDatabase, SqlSession, TransactionOptions } from './sql-database.js';
import { inTenantTransaction } from './tenant-transaction.js';

/** Rows per page of an export: two pages (the one sent and the one read ahead) are all it holds. */
const EXPORT_PAGE = 1000;

/** About half a day of the query bench's tenant: ~10 ms to read from the table. */
const STALE_EVENTS_READ_FROM_TABLE = 5_000;

export interface QueryOptions {
  /**
   * Whether answers may take the fast paths: counts and value statistics from the rollups where
   * they are exact, unique users and sessions and percentiles from the event sets where they
   * can filter, the hashed summary, property filters through `events_with_properties`. Off,
   * every answer is computed from the events table in the plainest SQL: the baseline of the
   * query benchmark and the reference the fast paths are tested against.
   */
  fastPaths: boolean;
  /**
   * How many events of stale or missing event sets a read takes from the table beside the
   * fresh sets; past that, the plain path answers (default `STALE_EVENTS_READ_FROM_TABLE`).
   */
  staleEventsReadFromTable?: number;
  /** Rows per keyset page of an export (default `EXPORT_PAGE`). */
  exportPage?: number;
}

/** An answer and the count its audit row records. */
type Counted<T> = { result: T; resultCount: number | null };

/**
 * The three questions, each planned once (`domain/query-plan.ts`) and answered by its module
 * under `queries/`, in a transaction as the tenant with its EVENTS_QUERIED audit row.
 */
export class PgEventQueries implements EventQueries {
  private readonly staleLimit: number;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: QueryOptions = { fastPaths: true },
  ) {
    this.staleLimit = options.staleEventsReadFromTable ?? STALE_EVENTS_READ_FROM_TABLE;
  }

  findEvents(who: Actor, filters: EventFilters, page: PageRequest): Promise<EventsPage> {
    const plan = planFind(filters, this.options.fastPaths);
    return this.read(who, { kind: 'events', filters, page: { limit: page.limit, offset: page.offset, order: page.order } }, async (session) => {
      const result = await findEvents(session, who.tenantId, filters, page, plan);
      return { result, resultCount: result.events.length };
    });
  }

  aggregate(who: Actor, query: AggregationQuery): Promise<Aggregation> {
    const plan = planAggregate(query, this.options.fastPaths);
    const what = { kind: 'aggregate', query };
    const options = { timeZone: query.timezone };
    const counted = (answer: Aggregation) => ({ result: answer, resultCount: answer.data.length });
    const plain = (session: SqlSession) => aggregateFromEvents(session, who.tenantId, query, planAggregateOnEvents(query, true)).then(counted);
    if (plan.source !== 'sets') return this.read(who, what, async (session) => counted(await aggregateFromEvents(session, who.tenantId, query, plan)), options);
    return this.readWithSets(who, what, options, (session) => aggregateFromSets(session, who.tenantId, query, plan, this.staleLimit).then(counted), plain);
  }

  eventTypes(who: Actor, range: { startTime: string; endTime: string }): Promise<EventTypeSummary[]> {
    const plan = planEventTypes(range, this.options.fastPaths);
    const what = { kind: 'event-types', range };
    const counted = (result: EventTypeSummary[]) => ({ result, resultCount: result.length });
    const plain = (session: SqlSession) => eventTypesFromEvents(session, who.tenantId, range).then(counted);
    if (plan.source !== 'sets') return this.read(who, what, plain);
    return this.readWithSets(who, what, {}, (session) => eventTypesFromSets(session, who.tenantId, range, plan, this.staleLimit).then(counted), plain);
  }

  errorGroups(who: Actor, query: ErrorGroupsQuery): Promise<ErrorGroup[]> {
    return this.read(who, { kind: 'errors', range: { startTime: query.startTime, endTime: query.endTime }, limit: query.limit }, async (session) => {
      const result = await errorGroups(session, who.tenantId, query);
      return { result, resultCount: result.length };
    });
  }

  /**
   * Each page in a short transaction of its own, the next one read while the last is consumed:
   * an export to a slow client holds no snapshot or connection open (PGlite has only one), and
   * a writer is never waiting on it. A page sees what is committed when it is read; the keyset
   * order means no row is sent twice. The audit row is committed with the first page, before
   * any row leaves, so an export cut off by the client is audited too; its count is not known
   * then (`resultCount: null`).
   */
  async *exportEvents(who: Actor, filters: EventFilters, options: ExportOptions): AsyncGenerator<StoredEvent> {
    const pageSize = this.options.exportPage ?? EXPORT_PAGE;
    const audit = { kind: 'export', filters, order: options.order, maxRows: options.maxRows };
    const readPage = (after: CursorPosition | undefined, limit: number) =>
      this.read(who, after ? undefined : audit, async (session) => ({ result: await exportPage(session, who.tenantId, filters, { order: options.order, after, limit }), resultCount: null }));
    let remaining = options.maxRows;
    let pending: Promise<StoredEvent[]> = readPage(undefined, Math.min(pageSize, remaining));
    try {
      for (;;) {
        const page = await pending;
        const limit = Math.min(pageSize, remaining);
        remaining -= page.length;
        const last = page.at(-1);
        const more = last !== undefined && page.length === limit && remaining > 0;
        pending = more ? readPage({ timestamp: last.timestamp, eventId: last.eventId }, Math.min(pageSize, remaining)) : Promise.resolve([]);
        yield* page;
        if (!more) return;
      }
    } finally {
      // A consumer that stops early (the client went away) leaves a page in flight: it settles here, never unhandled.
      await pending.catch(() => undefined);
    }
  }

  /**
   * A read from the event sets, in one snapshot: up to `staleEventsReadFromTable` events of
   * stale or missing sets (a late delivery since the writer kept them, a purge) are read from
   * the table. Past that the plain path answers, in a snapshot of its own: a read never builds
   * sets, which took seconds on a range nobody had read (issue 15); the writer keeps them.
   */
  private async readWithSets<T>(
    who: Actor,
    what: Record<string, unknown>,
    options: { timeZone?: string },
    fromSets: (session: SqlSession) => Promise<Counted<T>>,
    plain: (session: SqlSession) => Promise<Counted<T>>,
  ): Promise<T> {
    try {
      return await this.read(who, what, fromSets, { ...options, oneSnapshot: true, readsSets: true });
    } catch (error) {
      if (!(error instanceof StaleSetsError)) throw error;
      emitCounts({ [METRIC.readsPastStaleSets]: 1 });
    }
    return this.read(who, what, plain, options);
  }

  /** A read as the tenant, bounded in time, and its EVENTS_QUERIED audit row (unless `what` is undefined: a later page of an audited read), in one transaction. */
  private read<T>(who: Actor, what: Record<string, unknown> | undefined, work: (session: SqlSession) => Promise<Counted<T>>, options: TransactionOptions & AnalyticSettings = {}): Promise<T> {
    return inTenantTransaction(
      this.db,
      who.tenantId,
      async (session) => {
        await tuneForAnalytics(session, options);
        const { result, resultCount } = await work(session);
        if (what === undefined) return result;
        await session.query(`INSERT INTO audit_log (tenant_id, action, actor, details) VALUES ($1, 'EVENTS_QUERIED', $2, $3::jsonb)`, [
          who.tenantId,
          who.subject,
          JSON.stringify({ ...what, resultCount }),
        ]);
        return result;
      },
      options,
    );
  }
}
