import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgEventAdmin } from '../../../lambdas/shared/adapters/pg/pg-event-admin.js';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { inTenantTransaction } from '../../../lambdas/shared/adapters/pg/tenant-transaction.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { callApi } from '../../support/api-client.js';
import { rollupMismatches } from '../../support/rollup-check.js';

let app: RunningRuntime;
let admin: string;

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const call = (method: string, path: string, token: string) => callApi(app.runtime.url, method, path, { token });

const countOf = async (tenantId: string) =>
  Number((await app.testDb.db.query<{ n: string | number }>('SELECT count(*) AS n FROM analytics_events WHERE tenant_id = $1', [tenantId]))[0]?.n);

beforeAll(async () => {
  app = await startTestRuntime();
  admin = await app.token(TENANT_A, ['admin', 'events:read']);
});

afterAll(async () => {
  await app.stop();
});

describe('DELETE /v1/events?olderThan', () => {
  it("deletes only the caller's events older than the threshold, and audits it", async () => {
    const store = new PgEventStore(app.testDb.db);
    await store.writeMessages([
      received(envelope([...Array.from({ length: 12 }, () => trackedEvent({ timestamp: daysAgo(40) })), trackedEvent({ timestamp: daysAgo(5) })])),
      received(envelope([trackedEvent({ timestamp: daysAgo(40) })], { tenantId: TENANT_B })),
    ]);

    const answer = await call('DELETE', `/v1/events?olderThan=${encodeURIComponent(daysAgo(30))}`, admin);

    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { deleted: 12 } });
    expect(await countOf(TENANT_A)).toBe(1);
    expect(await countOf(TENANT_B)).toBe(1);
    const audit = await call('GET', '/v1/audit?action=EVENTS_PURGED', admin);
    expect(audit.body.entries).toEqual([expect.objectContaining({ action: 'EVENTS_PURGED', actor: 'tester', details: { olderThan: expect.any(String), deleted: 12 } })]);
  });

  it('leaves totals, pages, aggregates and the event-types summary agreeing with the events that remain', async () => {
    const tenant = randomUUID();
    const token = await app.token(tenant, ['admin', 'events:read', 'events:write']);
    const users = [randomUUID(), randomUUID(), randomUUID()];
    const ages = [60, 61, 62, 10, 5];
    const sent = await callApi(app.runtime.url, 'POST', '/v1/events/batch', {
      token,
      body: { events: ages.map((age, index) => ({ type: 'USER_ACTION', category: 'purged', action: 'view', userId: users[index % 3], timestamp: daysAgo(age) })) },
    });
    expect(sent.body.successful).toHaveLength(5);
    await app.runtime.eventSource.drained();
    const range = { startTime: daysAgo(80), endTime: daysAgo(0) };
    const read = async () => {
      const page = await callApi(app.runtime.url, 'POST', '/v1/events/query', { token, body: { ...range, categories: ['purged'], limit: 2 } });
      const byCategory = await callApi(app.runtime.url, 'POST', '/v1/analytics/aggregate', { token, body: { ...range, categories: ['purged'], granularity: 'day' } });
      // No category filter: the event sets' path (the tenant has no other events).
      const byWeek = await callApi(app.runtime.url, 'POST', '/v1/analytics/aggregate', { token, body: { ...range, granularity: 'week' } });
      const types = await call('GET', `/v1/analytics/event-types?startTime=${encodeURIComponent(range.startTime)}&endTime=${encodeURIComponent(range.endTime)}`, token);
      const sum = (rows: Array<{ count: number }>) => rows.reduce((total, row) => total + row.count, 0);
      return {
        total: page.body.total,
        page: page.body.events.length,
        hasMore: page.body.hasMore,
        dailyCounts: sum(byCategory.body.data),
        dailySummary: byCategory.body.summary.totalEvents,
        dailyUsers: byCategory.body.summary.uniqueUsers,
        weeklyCounts: sum(byWeek.body.data),
        weeklyUsers: byWeek.body.summary.uniqueUsers,
        types: types.body.map((type: { type: string; count: number; uniqueUsers: number }) => [type.type, type.count, type.uniqueUsers]),
      };
    };
    expect(await read()).toEqual({ total: 5, page: 2, hasMore: true, dailyCounts: 5, dailySummary: 5, dailyUsers: 3, weeklyCounts: 5, weeklyUsers: 3, types: [['USER_ACTION', 5, 3]] });

    const purged = await call('DELETE', `/v1/events?olderThan=${encodeURIComponent(daysAgo(30))}`, token);

    expect(purged.body).toEqual({ deleted: 3 });
    // The two left (10 and 5 days ago) were sent by users[0] and users[1].
    expect(await read()).toEqual({ total: 2, page: 2, hasMore: false, dailyCounts: 2, dailySummary: 2, dailyUsers: 2, weeklyCounts: 2, weeklyUsers: 2, types: [['USER_ACTION', 2, 2]] });
    expect(await rollupMismatches(app.testDb.db)).toEqual([]);
  });

  it('works through many batches, and drops the event sets of the emptied periods', async () => {
    const tenant = randomUUID();
    const who = { tenantId: tenant, subject: 'tester' };
    const setCount = async () => (await inTenantTransaction(app.testDb.db, tenant, (session) => session.query<{ n: number }>('SELECT count(*)::int AS n FROM event_sets')))[0]?.n;
    await new PgEventStore(app.testDb.db).writeMessages([received(envelope(Array.from({ length: 23 }, () => trackedEvent({ timestamp: daysAgo(20) })), { tenantId: tenant }))]);
    expect(await setCount()).toBeGreaterThan(0);

    const deleted = await new PgEventAdmin(app.testDb.db).purgeOlderThan(who, daysAgo(10), 5);

    expect(deleted).toBe(23);
    expect(await countOf(tenant)).toBe(0);
    expect(await setCount()).toBe(0);
  });

  it('needs the admin scope and a valid olderThan', async () => {
    const reader = await app.token(TENANT_A, ['events:read', 'events:write']);
    expect((await call('DELETE', `/v1/events?olderThan=${encodeURIComponent(daysAgo(1))}`, reader)).status).toBe(403);
    const missing = await call('DELETE', '/v1/events', admin);
    const garbage = await call('DELETE', '/v1/events?olderThan=yesterday', admin);
    expect([missing.status, garbage.status]).toEqual([400, 400]);
    expect(garbage.body.errors[0].path).toBe('olderThan');
  });

  it('answers 400 naming olderThan to a cut-off in the future or not a date, and deletes nothing', async () => {
    const tenant = randomUUID();
    const token = await app.token(tenant, ['admin']);
    await new PgEventStore(app.testDb.db).writeMessages([received(envelope([trackedEvent({ timestamp: daysAgo(1) })], { tenantId: tenant }))]);

    const future = await call('DELETE', `/v1/events?olderThan=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, token);
    const notADate = await call('DELETE', '/v1/events?olderThan=2026-02-30T00:00:00Z', token);

    expect({ status: future.status, errors: future.body.errors }).toEqual({ status: 400, errors: [{ path: 'olderThan', message: 'must not be in the future' }] });
    expect({ status: notADate.status, paths: notADate.body.errors.map((error: { path: string }) => error.path) }).toEqual({ status: 400, paths: ['olderThan'] });
    expect(await countOf(tenant)).toBe(1);
  });

  it('answers 400 naming olderThan to year 0, which Postgres cannot read, instead of a 500', async () => {
    const answer = await call('DELETE', '/v1/events?olderThan=0000-01-01T00:00:00Z', admin);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'olderThan', message: 'must be between 1970-01-01 and 9999-12-31 (UTC)' }]);
  });
});

describe('GET /v1/audit', () => {
  it("pages the caller's audit log, newest first, and shows nothing of another tenant", async () => {
    const tenant = randomUUID();
    const token = await app.token(tenant, ['admin', 'events:read']);
    const range = `startTime=${encodeURIComponent(daysAgo(1))}&endTime=${encodeURIComponent(daysAgo(0))}`;
    for (let index = 0; index < 5; index++) await call('GET', `/v1/analytics/event-types?${range}`, token);

    const first = await call('GET', '/v1/audit?limit=3', token);
    const second = await call('GET', `/v1/audit?limit=3&before=${first.body.nextBefore}`, token);

    const ids = [...first.body.entries, ...second.body.entries].map((entry: { auditId: number }) => entry.auditId);
    expect(ids).toHaveLength(5);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(second.body.nextBefore).toBeNull();
    expect([...first.body.entries, ...second.body.entries].every((entry: { action: string }) => entry.action === 'EVENTS_QUERIED')).toBe(true);
  });

  it('shows a batch whose every item was refused as EVENTS_BATCH_PROCESSED, and the users of tracked events in EVENTS_TRACKED', async () => {
    const tenant = randomUUID();
    const token = await app.token(tenant, ['admin', 'events:write']);
    const user = randomUUID();
    const post = (events: unknown[]) => callApi(app.runtime.url, 'POST', '/v1/events/batch', { token, body: { events } });

    const refused = await post([{ type: 'NOPE' }, {}]);
    await post([{ type: 'CUSTOM', category: 'c', action: 'a', userId: user }, { type: 'CUSTOM', category: 'c', action: 'a', userId: user }]);
    await app.runtime.eventSource.drained();
    const batches = await call('GET', '/v1/audit?action=EVENTS_BATCH_PROCESSED', token);
    const tracked = await call('GET', '/v1/audit?action=EVENTS_TRACKED', token);

    expect(refused.status).toBe(200);
    const summaries = batches.body.entries.map((entry: { details: Record<string, unknown> }) => entry.details);
    expect(summaries).toHaveLength(2);
    expect(summaries).toEqual(
      expect.arrayContaining([
        { requestId: expect.any(String), total: 2, accepted: 2, rejected: 0 },
        { requestId: expect.any(String), total: 2, accepted: 0, rejected: 2 },
      ]),
    );
    expect(tracked.body.entries).toEqual([expect.objectContaining({ details: expect.objectContaining({ stored: 2, uniqueUsers: 1, userIds: [user] }) })]);
  });

  it('answers 400 to a bad limit or action, 403 without admin', async () => {
    expect((await call('GET', '/v1/audit?limit=0', admin)).body.errors[0].path).toBe('limit');
    expect((await call('GET', '/v1/audit?action=DROP', admin)).body.errors[0].path).toBe('action');
    expect((await call('GET', '/v1/audit', await app.token(TENANT_A, ['events:read']))).status).toBe(403);
  });
});
