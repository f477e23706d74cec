import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { EXPORT_COLUMNS } from '../../../lambdas/shared/domain/csv-export.js';
import { errorFingerprint } from '../../../lambdas/shared/domain/event-type-rules.js';
import type { TrackedEvent } from '../../../lambdas/shared/domain/event-schemas.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { callApi } from '../../support/api-client.js';

let app: RunningRuntime;
let readerA: string;
let readerB: string;
let adminA: string;

const HOUR = 3_600_000;
const base = Date.now() - 5 * 24 * HOUR;
const at = (hours: number) => new Date(base + hours * HOUR).toISOString();
const range = { startTime: at(-1), endTime: at(100) };
const query = (params: Record<string, string | number>) => new URLSearchParams(Object.fromEntries(Object.entries(params).map(([key, value]) => [key, String(value)]))).toString();

function errorEvent(overrides: Partial<TrackedEvent> & { message: string }): TrackedEvent {
  const { message, ...rest } = overrides;
  const event = trackedEvent({ type: 'ERROR', category: 'api', action: 'request', properties: { message }, ...rest });
  return { ...event, metadata: { severity: 'HIGH', fingerprint: errorFingerprint({ ...event, label: event.label ?? undefined }), ...rest.metadata } };
}

const USERS = [randomUUID(), randomUUID(), randomUUID()];
/** Tenant A: 5 timeouts (3 users), 2 null derefs, 1 outside the range; tenant B: 9 timeouts. */
const timeoutsA = Array.from({ length: 5 }, (_, index) => errorEvent({ message: `timeout after ${index * 100} ms`, timestamp: at(index * 10), userId: USERS[index % 3] }));
const nullsA = [1, 2].map((hour) => errorEvent({ category: 'ui', action: 'render', message: 'x is null', timestamp: at(hour), metadata: { severity: 'LOW' } }));
const outsideA = errorEvent({ message: 'timeout after 1 ms', timestamp: at(200) });
const timeoutsB = Array.from({ length: 9 }, (_, index) => errorEvent({ message: `timeout after ${index} ms`, timestamp: at(index) }));

/** Hostile text in every field a spreadsheet would read, for tenant A. */
const HOSTILE = trackedEvent({
  timestamp: at(50),
  category: '=cmd|\' /C calc\'!A0',
  action: '+SUM(1,2)',
  label: '@evil "quoted", with comma\r\nand a line',
  value: -3,
  sessionId: '\tTAB',
  properties: { '=key': '-2+3', html: '<script>alert(1)</script>' },
});
const plainA = Array.from({ length: 30 }, (_, index) => trackedEvent({ timestamp: at(index * 3), category: index % 2 ? 'shop' : 'search', value: index, userId: randomUUID() }));

beforeAll(async () => {
  app = await startTestRuntime();
  readerA = await app.token(TENANT_A, ['events:read']);
  readerB = await app.token(TENANT_B, ['events:read']);
  adminA = await app.token(TENANT_A, ['admin']);
  await new PgEventStore(app.testDb.db).writeMessages([
    received(envelope([...timeoutsA, ...nullsA, outsideA, HOSTILE, ...plainA])),
    received(envelope(timeoutsB, { tenantId: TENANT_B })),
  ]);
});

afterAll(async () => {
  await app.stop();
});

describe('GET /v1/analytics/errors', () => {
  it('groups the range’s ERROR events by fingerprint, largest first, with users, first and last seen and the latest message', async () => {
    const answer = await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query(range)}`, { token: readerA });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      from: range.startTime,
      to: range.endTime,
      groups: [
        {
          fingerprint: timeoutsA[0]?.metadata['fingerprint'],
          category: 'api',
          action: 'request',
          message: 'timeout after 400 ms',
          severity: 'HIGH',
          count: 5,
          users: 3,
          firstSeen: at(0),
          lastSeen: at(40),
          sampleEventId: timeoutsA[4]?.eventId,
        },
        {
          fingerprint: nullsA[0]?.metadata['fingerprint'],
          category: 'ui',
          action: 'render',
          message: 'x is null',
          severity: 'LOW',
          count: 2,
          users: 0,
          firstSeen: at(1),
          lastSeen: at(2),
          sampleEventId: nullsA[1]?.eventId,
        },
      ],
    });
  });

  it("sees only the caller's tenant, whose groups share fingerprints with another's", async () => {
    const answer = await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query(range)}`, { token: readerB });

    expect(answer.body.groups).toEqual([expect.objectContaining({ fingerprint: timeoutsA[0]?.metadata['fingerprint'], count: 9, users: 0 })]);
  });

  it('answers at most limit groups', async () => {
    const answer = await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query({ ...range, limit: 1 })}`, { token: readerA });

    expect(answer.body.groups.map((group: { count: number }) => group.count)).toEqual([5]);
  });

  it('names every bad parameter', async () => {
    const answer = await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query({ startTime: 'yesterday', endTime: at(1), limit: 201, colour: 'red' })}`, { token: readerA });

    expect(answer.status).toBe(400);
    expect([...new Set(answer.body.errors.map((issue: { path: string }) => issue.path))].sort()).toEqual(['colour', 'limit', 'startTime']);
  });

  it('refuses an end before the start and a range longer than the retention', async () => {
    const backwards = await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query({ startTime: at(5), endTime: at(1) })}`, { token: readerA });
    const tooLong = await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query({ startTime: at(-24 * 200), endTime: at(1) })}`, { token: readerA });

    expect(backwards.body.errors).toEqual([expect.objectContaining({ path: 'endTime' })]);
    expect(tooLong.body.errors).toEqual([expect.objectContaining({ path: 'startTime' })]);
  });

  it('needs events:read', async () => {
    expect((await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query(range)}`, { token: adminA })).status).toBe(403);
    expect((await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query(range)}`, {})).status).toBe(401);
  });

  it('is audited as a read, with the count of groups', async () => {
    const tenant = randomUUID();
    await callApi(app.runtime.url, 'GET', `/v1/analytics/errors?${query(range)}`, { token: await app.token(tenant, ['events:read']) });

    const audit = await callApi(app.runtime.url, 'GET', '/v1/audit?action=EVENTS_QUERIED', { token: await app.token(tenant, ['admin']) });
    expect(audit.body.entries).toEqual([expect.objectContaining({ actor: 'tester', details: { kind: 'errors', range, limit: 50, resultCount: 0 } })]);
  });
});

/** RFC 4180: quoted cells may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i++;
    } else cell += char;
  }
  expect(cell, 'the last record ends in CRLF').toBe('');
  return records;
}

const exportCsv = (token: string, body: unknown) =>
  fetch(`${app.runtime.url}/v1/events/export`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('POST /v1/events/export', () => {
  it('downloads every match as CSV with a header row, in the requested order', async () => {
    const response = await exportCsv(readerA, { ...range, categories: ['shop', 'search'], orderBy: 'timestamp_asc' });
    const records = parseCsv(await response.text());

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="events-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.csv"$/);
    expect(records[0]).toEqual([...EXPORT_COLUMNS]);
    expect(records.slice(1).map((record) => record[0])).toEqual(plainA.map((event) => event.eventId));
    const first = plainA[0];
    expect(records[1]).toEqual([first?.eventId, first?.timestamp, 'CUSTOM', 'search', 'run', '', '0', first?.userId, '', '{}', '{}', '{}', first?.receivedAt, expect.any(String)]);
  });

  it('makes every cell a spreadsheet would run inert and quotes as RFC 4180 asks', async () => {
    const response = await exportCsv(readerA, { ...range, categories: [HOSTILE.category] });
    const [, record] = parseCsv(await response.text());

    expect(record?.slice(3, 9)).toEqual([`'${HOSTILE.category}`, `'${HOSTILE.action}`, `'${HOSTILE.label}`, "'-3", '', `'${HOSTILE.sessionId}`]);
    expect(JSON.parse(record?.[9] ?? '')).toEqual(HOSTILE.properties);
  });

  it('stops at maxRows, newest first by default', async () => {
    const response = await exportCsv(readerA, { ...range, categories: ['shop', 'search'], maxRows: 4 });

    expect(parseCsv(await response.text()).slice(1).map((record) => record[0])).toEqual(plainA.slice(-4).reverse().map((event) => event.eventId));
  });

  it("exports only the caller's tenant", async () => {
    const response = await exportCsv(readerB, range);
    const ids = parseCsv(await response.text()).slice(1).map((record) => record[0]);

    expect(ids.sort()).toEqual(timeoutsB.map((event) => event.eventId).sort());
  });

  it('filters on properties like the query', async () => {
    const response = await exportCsv(readerA, { ...range, properties: { '=key': '-2+3' } });

    expect(parseCsv(await response.text()).slice(1).map((record) => record[0])).toEqual([HOSTILE.eventId]);
  });

  it('names every bad field and refuses paging fields', async () => {
    const answer = await callApi(app.runtime.url, 'POST', '/v1/events/export', { token: readerA, body: { startTime: at(1), endTime: 'soon', maxRows: 0, limit: 10, cursor: 'x', eventTypes: ['NOPE'] } });

    expect(answer.status).toBe(400);
    expect([...new Set(answer.body.errors.map((issue: { path: string }) => issue.path))].sort()).toEqual(['cursor', 'endTime', 'eventTypes.0', 'limit', 'maxRows']);
  });

  it('needs events:read', async () => {
    expect((await callApi(app.runtime.url, 'POST', '/v1/events/export', { token: adminA, body: range })).status).toBe(403);
  });

  it('is audited before the first row leaves', async () => {
    const tenant = randomUUID();
    const response = await exportCsv(await app.token(tenant, ['events:read']), { ...range, maxRows: 10 });
    await response.text();

    const audit = await callApi(app.runtime.url, 'GET', '/v1/audit?action=EVENTS_QUERIED', { token: await app.token(tenant, ['admin']) });
    expect(audit.body.entries).toEqual([expect.objectContaining({ details: { kind: 'export', filters: range, order: 'desc', maxRows: 10, resultCount: null } })]);
  });
});

describe('GET /v1/admin/retention', () => {
  const manifest = (month: string, tenants: Array<{ tenantId: string; rows: number }>) => ({
    schemaVersion: 1,
    month,
    generation: 1,
    createdAt: new Date().toISOString(),
    tenants: tenants.map(({ tenantId, rows }) => ({ tenantId, key: `events/${month}/run-1/${tenantId}.jsonl.gz`, rows, bytes: rows * 10, sha256: 'a'.repeat(64), minTimestamp: `${month}-01T00:00:00.000Z`, maxTimestamp: `${month}-02T00:00:00.000Z` })),
  });

  beforeAll(async () => {
    const db = app.testDb.db;
    await db.query(
      `INSERT INTO retention_runs (partition_month, generation, state, archive_prefix, manifest, started_at, dropped_at, updated_at) VALUES
        ('2026-01-01', 1, 'dropped', 'events/2026-01/run-1/', $1::jsonb, '2026-05-01T00:15:00Z', '2026-05-01T00:16:00Z', '2026-05-01T00:16:00Z'),
        ('2026-02-01', 1, 'exporting', 'events/2026-02/run-1/', NULL, '2026-06-01T00:15:00Z', NULL, '2026-06-01T00:15:00Z'),
        ('2026-03-01', 1, 'uploaded', 'events/2026-03/run-1/', $2::jsonb, '2026-06-02T00:15:00Z', NULL, '2026-06-02T00:15:30Z')`,
      [JSON.stringify(manifest('2026-01', [{ tenantId: TENANT_A, rows: 7 }, { tenantId: TENANT_B, rows: 5 }])), JSON.stringify(manifest('2026-03', [{ tenantId: TENANT_B, rows: 2 }]))],
    );
    await db.query(
      `INSERT INTO tenant_retention_runs (partition_month, tenant_id, generation, state, archive_prefix, stored_before, manifest, started_at, deleted_at, updated_at) VALUES
        ('2026-04-01', $1, 1, 'deleted', 'events/2026-04/tenant-a/run-1/', '2026-06-01T00:00:00Z', $3::jsonb, '2026-06-03T00:15:00Z', '2026-06-03T00:17:00Z', '2026-06-03T00:17:00Z'),
        ('2026-04-01', $2, 1, 'verified', 'events/2026-04/tenant-b/run-1/', '2026-06-01T00:00:00Z', NULL, '2026-06-04T00:15:00Z', NULL, '2026-06-04T00:15:00Z')`,
      [TENANT_A, TENANT_B, JSON.stringify(manifest('2026-04', [{ tenantId: TENANT_A, rows: 3 }]))],
    );
  });

  it("shows the settings, the tenant's own runs and the partitions' runs with only the tenant's rows", async () => {
    const answer = await callApi(app.runtime.url, 'GET', '/v1/admin/retention', { token: adminA });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      eventRetentionDays: 90,
      rollupRetentionDays: 365,
      tenantEventDays: null,
      lastRun: '2026-06-03T00:17:00.000Z',
      runs: [
        { kind: 'tenant', month: '2026-04', generation: 1, state: 'deleted', rows: 3, bytes: 30, archive: `events/2026-04/run-1/${TENANT_A}.jsonl.gz`, startedAt: '2026-06-03T00:15:00.000Z', finishedAt: '2026-06-03T00:17:00.000Z', error: null },
        { kind: 'partition', month: '2026-03', generation: 1, state: 'uploaded', rows: 0, bytes: null, archive: null, startedAt: '2026-06-02T00:15:00.000Z', finishedAt: null, error: null },
        { kind: 'partition', month: '2026-02', generation: 1, state: 'exporting', rows: null, bytes: null, archive: null, startedAt: '2026-06-01T00:15:00.000Z', finishedAt: null, error: null },
        { kind: 'partition', month: '2026-01', generation: 1, state: 'dropped', rows: 7, bytes: 70, archive: `events/2026-01/run-1/${TENANT_A}.jsonl.gz`, startedAt: '2026-05-01T00:15:00.000Z', finishedAt: '2026-05-01T00:16:00.000Z', error: null },
      ],
    });
  });

  it("never shows another tenant's runs or manifest entries", async () => {
    const answer = await callApi(app.runtime.url, 'GET', '/v1/admin/retention', { token: await app.token(TENANT_B, ['admin']) });

    expect(JSON.stringify(answer.body)).not.toContain(TENANT_A);
    expect(answer.body.runs.map((run: { kind: string; month: string; rows: number | null }) => [run.kind, run.month, run.rows])).toEqual([
      ['tenant', '2026-04', null],
      ['partition', '2026-03', 2],
      ['partition', '2026-02', null],
      ['partition', '2026-01', 5],
    ]);
  });

  it('gives the application role no read of the state tables themselves', async () => {
    const read = app.testDb.db.transaction(async (session) => {
      await session.query(`SELECT set_config('role', 'tracker_app', true), set_config('app.tenant_id', $1, true)`, [TENANT_A]);
      return session.query('SELECT * FROM retention_runs');
    });

    await expect(read).rejects.toThrow(/permission denied/);
  });

  it('needs admin', async () => {
    expect((await callApi(app.runtime.url, 'GET', '/v1/admin/retention', { token: readerA })).status).toBe(403);
  });
});
