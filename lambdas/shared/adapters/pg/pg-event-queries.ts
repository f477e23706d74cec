import { planAggregate, planEventTypes, planFind } from '../../domain/query-plan.js';
import type { AggregationQuery } from '../../domain/query-schemas.js';
import type { RollupSplit } from '../../domain/rollup-ranges.js';
import type { Aggregation, ErrorGroup, StoredEvent } from '../../domain/answer-schemas.js';
import type { CursorPosition } from '../../domain/query-cursor.js';
import type { ErrorGroupsQuery } from '../../domain/query-schemas.js';
import type { Actor } from '../../domain/caller.js';
import type { EventFilters, EventQueries, EventsPage, EventTypeSummary, ExportOptions, PageRequest } from '../../ports/event-queries.js';
import { describeError, log } from '../../logger.js';
import { tuneForAnalytics } from './analytic-settings.js';
import { PgEventSets, StaleSetsError, type SetFilters } from './pg-event-sets.js';
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
   * How many events of stale or missing event sets a read takes from the table rather than
   * have the sets rebuilt first (default `STALE_EVENTS_READ_FROM_TABLE`).
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
  private readonly sets: PgEventSets;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: QueryOptions = { fastPaths: true },
  ) {
    this.sets = new PgEventSets(db);
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
    if (plan.source !== 'sets') return this.read(who, what, async (session) => counted(await aggregateFromEvents(session, who.tenantId, query, plan)), options);
    return this.readWithSets(who, what, { filters: query, split: plan.split }, options, async (session, staleLimit) =>
      counted(await aggregateFromSets(session, who.tenantId, query, plan, staleLimit)),
    );
  }

  eventTypes(who: Actor, range: { startTime: string; endTime: string }): Promise<EventTypeSummary[]> {
    const plan = planEventTypes(range, this.options.fastPaths);
    const what = { kind: 'event-types', range };
    const counted = (result: EventTypeSummary[]) => ({ result, resultCount: result.length });
    if (plan.source !== 'sets') return this.read(who, what, async (session) => counted(await eventTypesFromEvents(session, who.tenantId, range)));
    return this.readWithSets(who, what, { filters: range, split: plan.split }, {}, async (session, staleLimit) =>
      counted(await eventTypesFromSets(session, who.tenantId, range, plan, staleLimit)),
    );
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
   * stale or missing sets are read from the table; past that the sets are rebuilt first and the
   * read runs again, taking whatever is still stale from the table. Checking before every read
   * instead cost 8-16 ms of a warm read (bench).
   */
  private async readWithSets<T>(
    who: Actor,
    what: Record<string, unknown>,
    sets: { filters: SetFilters; split: RollupSplit },
    options: { timeZone?: string },
    work: (session: SqlSession, staleLimit: number | null) => Promise<Counted<T>>,
  ): Promise<T> {
    const attempt = (staleLimit: number | null) => this.read(who, what, (session) => work(session, staleLimit), { ...options, oneSnapshot: true });
    try {
      return await attempt(this.options.staleEventsReadFromTable ?? STALE_EVENTS_READ_FROM_TABLE);
    } catch (error) {
      if (!(error instanceof StaleSetsError)) throw error;
    }
    // A rebuild that fails (a statement timeout on a tenant far bigger than the bench, say)
    // must not fail the read: the events can still answer it, as the plain path would.
    await this.sets.refresh(who.tenantId, sets.filters, sets.split).catch((error: unknown) => log('warn', 'event sets not rebuilt', { tenantId: who.tenantId, ...describeError(error) }));
    return attempt(null);
  }

  /** A read as the tenant, bounded in time, and its EVENTS_QUERIED audit row (unless `what` is undefined: a later page of an audited read), in one transaction. */
  private read<T>(who: Actor, what: Record<string, unknown> | undefined, work: (session: SqlSession) => Promise<Counted<T>>, options: TransactionOptions & { timeZone?: string } = {}): Promise<T> {
    return inTenantTransaction(
      this.db,
      who.tenantId,
      async (session) => {
        await tuneForAnalytics(session, options.timeZone);
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
