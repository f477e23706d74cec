import { describe, expect, it } from 'vitest';
import type { StreamConnection, StreamConnections } from '../../../lambdas/shared/ports/stream-connections.js';
import { createHandler as createConnect } from '../../../lambdas/stream-connect/handler.js';
import { createHandler as createDisconnect } from '../../../lambdas/stream-disconnect/handler.js';
import { TENANT_A, TENANT_B } from '../../support/factories.js';

function memoryConnections(): StreamConnections & { rows: StreamConnection[] } {
  const rows: StreamConnection[] = [];
  return {
    rows,
    add: async (connection) => void rows.push(connection),
    remove: async (tenantId, connectionId) => void rows.splice(rows.findIndex((row) => row.tenantId === tenantId && row.connectionId === connectionId), 1),
    ofTenant: async (tenantId) => rows.filter((row) => row.tenantId === tenantId),
    find: async (tenantId, connectionId) => rows.find((row) => row.tenantId === tenantId && row.connectionId === connectionId),
  };
}

const reader = { tenantId: TENANT_A, subject: 'u', scopes: 'events:read' };
const event = (authorizer: Record<string, unknown> | null, query: Record<string, string> = {}) => ({ requestContext: { connectionId: 'c1', authorizer }, queryStringParameters: query });

describe('$connect and $disconnect', () => {
  it('records the connection under the tenant of the credential with its filter, and removes it', async () => {
    const connections = memoryConnections();
    const connect = createConnect(connections, () => new Date('2026-01-01T00:00:00Z'));

    // The answer selects the subprotocol that is not the token: a browser drops a handshake that selects none.
    expect(await connect(event(reader, { types: 'ERROR', properties: '{"plan":"pro"}' }))).toEqual({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'bearer' } });
    expect(connections.rows).toEqual([{ tenantId: TENANT_A, connectionId: 'c1', filter: { types: ['ERROR'], properties: { plan: 'pro' } }, connectedAt: '2026-01-01T00:00:00.000Z' }]);

    await createDisconnect(connections)(event(reader));
    expect(connections.rows).toEqual([]);
  });

  it('refuses a token left in the URL (400 naming it): the credential is a subprotocol only', async () => {
    const connections = memoryConnections();
    expect(await createConnect(connections)(event(reader, { token: 'secret' }))).toMatchObject({ statusCode: 400, body: expect.stringMatching(/token/) });
    expect(connections.rows).toEqual([]);
  });

  it('refuses a missing scope or another tenant (403), a bad filter (400), no caller (401)', async () => {
    const connections = memoryConnections();
    const connect = createConnect(connections);
    expect(await connect(event({ ...reader, scopes: 'events:write' }))).toMatchObject({ statusCode: 403 });
    expect(await connect(event(reader, { tenantId: TENANT_B }))).toMatchObject({ statusCode: 403 });
    expect(await connect(event(reader, { types: 'NOPE' }))).toMatchObject({ statusCode: 400, body: expect.stringMatching(/^types/) });
    expect(await connect(event(null))).toMatchObject({ statusCode: 401 });
    expect(connections.rows).toEqual([]);
  });
});
