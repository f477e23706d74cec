import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_A, TENANT_B } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { callApi } from '../../support/api-client.js';

let app: RunningRuntime;
let adminA: string;
let adminB: string;

const call = (method: string, path: string, token: string, body?: unknown) => callApi(app.runtime.url, method, path, { token, body });

const event = { type: 'CUSTOM', category: 'web', action: 'visit' };

async function storedTenantOf(eventId: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const rows = await app.testDb.db.query<{ tenant_id: string }>('SELECT tenant_id FROM analytics_events WHERE event_id = $1', [eventId]);
    if (rows[0]) return rows[0].tenant_id;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

beforeAll(async () => {
  app = await startTestRuntime();
  adminA = await app.token(TENANT_A, ['admin']);
  adminB = await app.token(TENANT_B, ['admin']);
});

afterAll(async () => {
  await app.stop();
});

describe('write keys', () => {
  it('are shown once on creation, never cached, and listed without their secret', async () => {
    const created = await call('POST', '/v1/keys', adminA, { name: 'marketing site' });

    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({ name: 'marketing site', scopes: ['events:write'], createdBy: 'tester', key: expect.stringMatching(/^wk_/) });
    const listed = await call('GET', '/v1/keys', adminA);
    expect(listed.body.keys).toContainEqual(expect.objectContaining({ keyId: created.body.keyId, name: 'marketing site' }));
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key.slice(20));
  });

  it("send events into the key's tenant, and do nothing else", async () => {
    const { key } = (await call('POST', '/v1/keys', adminA, { name: 'server' })).body;

    const tracked = await call('POST', '/v1/events', key, event);

    expect(tracked.status).toBe(202);
    expect(await storedTenantOf(tracked.body.eventId)).toBe(TENANT_A);
    expect((await call('POST', '/v1/events/query', key, { startTime: new Date(Date.now() - 3600_000).toISOString(), endTime: new Date().toISOString() })).status).toBe(403);
    expect((await call('GET', '/v1/keys', key)).status).toBe(403);
    expect((await call('POST', '/v1/keys', key, { name: 'escalation' })).status).toBe(403);
  });

  it('stop working once revoked', async () => {
    const created = (await call('POST', '/v1/keys', adminA, { name: 'leaked' })).body;
    expect((await call('POST', '/v1/events', created.key, event)).status).toBe(202);

    const revoked = await call('DELETE', `/v1/keys/${created.keyId}`, adminA);

    expect(revoked).toMatchObject({ status: 200, body: { keyId: created.keyId, revokedBy: 'tester', revokedAt: expect.any(String) } });
    const refused = await call('POST', '/v1/events', created.key, event);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
  });

  it("cannot be listed or revoked by another tenant's admin", async () => {
    const created = (await call('POST', '/v1/keys', adminA, { name: 'private' })).body;

    expect((await call('GET', '/v1/keys', adminB)).body.keys).not.toContainEqual(expect.objectContaining({ keyId: created.keyId }));
    const attempt = await call('DELETE', `/v1/keys/${created.keyId}`, adminB);
    expect(attempt.status).toBe(404);
    expect((await call('POST', '/v1/events', created.key, event)).status).toBe(202);
  });

  it('need the admin scope, a name, and a well-formed key id', async () => {
    const writer = await app.token(TENANT_A, ['events:write', 'events:read']);
    expect((await call('POST', '/v1/keys', writer, { name: 'x' })).status).toBe(403);
    const invalid = await call('POST', '/v1/keys', adminA, { name: '', scopes: ['admin'] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((issue: { path: string }) => issue.path).sort()).toEqual(['name', 'scopes']);
    const badId = await call('DELETE', "/v1/keys/1'%20OR%20'1", adminA);
    expect(badId.status).toBe(400);
    expect(badId.body.errors).toEqual([{ path: 'keyId', message: 'is not a key id' }]);
  });

  it('that are forged, truncated or invented are refused like any bad credential', async () => {
    const { key } = (await call('POST', '/v1/keys', adminA, { name: 'real' })).body;
    for (const forged of [`${key.slice(0, -2)}AA`, key.slice(0, -1), `wk_${'0'.repeat(16)}_${'A'.repeat(43)}`]) {
      expect((await call('POST', '/v1/events', forged, event)).status).toBe(401);
    }
  });
});
