import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveStreamHub } from '../../../../../lambdas/shared/adapters/local/live-stream-hub.js';
import { attachLiveStream, type LiveStreamServer } from '../../../../../lambdas/shared/adapters/local/live-stream-server.js';
import { TENANT_A } from '../../../../support/factories.js';
import { connectStream, type StreamClient } from '../../../../support/stream-client.js';

const HEARTBEAT_MS = 100;
let server: Server;
let stream: LiveStreamServer;
const clients: StreamClient[] = [];

/** Any token is tenant A with events:read: the authorizer itself is tested on its own. */
async function start(): Promise<string> {
  server = createServer();
  const hub = new LiveStreamHub({ recentEventsPerTenant: 10, resumeWindowMs: 1000, subscriberBufferBytes: 1024 });
  stream = attachLiveStream(server, async () => ({ principalId: 'tester', policyDocument: { Version: '2012-10-17', Statement: [] }, context: { tenantId: TENANT_A, subject: 'tester', scopes: 'events:read' } }), hub, HEARTBEAT_MS);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await stream.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('the local stream heartbeat', () => {
  it('keeps a reading subscriber open and cuts one that stopped answering pings', async () => {
    const url = await start();
    const reading = connectStream(url, { token: 't' });
    const stuck = connectStream(url, { token: 't' });
    clients.push(reading, stuck);
    await reading.next((message) => message.type === 'subscribed');
    await stuck.next((message) => message.type === 'subscribed');
    let pings = 0;
    reading.socket.on('ping', () => (pings += 1));
    stuck.socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 4 * HEARTBEAT_MS));
    // Reading again, it finds the server gone without a closing handshake.
    stuck.socket.resume();

    const cut = await stuck.closed;

    expect(cut.code).toBe(1006);
    expect(reading.socket.readyState).toBe(reading.socket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(1);
  });
});
