import { createServer, type Server } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveStreamHub } from '../../../../../lambdas/shared/adapters/local/live-stream-hub.js';
import { attachLiveStream, type LiveStreamServer } from '../../../../../lambdas/shared/adapters/local/live-stream-server.js';
import { storedRows, TENANT_A, trackedEvent } from '../../../../support/factories.js';
import { connectStream, eventIdsOf, type StreamClient } from '../../../../support/stream-client.js';

const HEARTBEAT_MS = 100;
let server: Server;
let stream: LiveStreamServer;
let hub: LiveStreamHub;
const clients: StreamClient[] = [];

/** Any token is tenant A with events:read: the authorizer itself is tested on its own. */
async function start(): Promise<string> {
  server = createServer();
  hub = new LiveStreamHub({ recentEventsPerTenant: 10, resumeWindowMs: 1000, subscriberBufferBytes: 1024 });
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


describe('the resume client frame', () => {
  it('replays what was missed up to the subscription, even when sent on open, and refuses a malformed one', async () => {
    const url = await start();
    const watcher = connectStream(url, { token: 't' });
    clients.push(watcher);
    await watcher.next((message) => message.type === 'subscribed');
    // In time order: within a commit the stream orders events by timestamp, then id.
    const [seen, missed, live] = [0, 1, 2].map((ms) => trackedEvent({ timestamp: new Date(Date.now() + ms).toISOString() }));
    if (!seen || !missed || !live) throw new Error('three events');
    await hub.publish([storedRows(TENANT_A, [seen, missed])]);

    const resuming = connectStream(url, { token: 't' });
    clients.push(resuming);
    // On open, before the server has checked the credential: as a client of the AWS stream may.
    await new Promise((resolve) => resuming.socket.once('open', resolve));
    resuming.socket.send(JSON.stringify({ action: 'resume', after: seen.eventId }));
    await resuming.next((message) => message.type === 'resumed');
    await hub.publish([storedRows(TENANT_A, [live])]);
    await resuming.receivedEvents(2);
    // Again: the live event came after the subscription, so it is not replayed.
    resuming.socket.send(JSON.stringify({ action: 'resume', after: seen.eventId }));
    await resuming.next((message) => message.type === 'resumed' && resuming.messages.filter((each) => each.type === 'resumed').length === 2);

    expect(eventIdsOf(resuming.messages)).toEqual([missed.eventId, live.eventId, missed.eventId]);
    expect(resuming.messages.filter((message) => message.type === 'resumed')).toEqual([
      { type: 'resumed', after: seen.eventId, replayed: 1, complete: true },
      { type: 'resumed', after: seen.eventId, replayed: 1, complete: true },
    ]);

    resuming.socket.send(JSON.stringify({ action: 'resume', after: 'not-an-id' }));
    expect(await resuming.closed).toMatchObject({ code: 4400, reason: expect.stringMatching(/^malformed frame/) });
  });
});

describe("the local stream's writes", () => {
  it("sends a delivery's frames to a subscriber's socket in one write, however many frames it takes", async () => {
    // Prepare
    const url = await start();
    const serverPort = Number(new URL(url).port);
    const watcher = connectStream(url, { token: 't' });
    clients.push(watcher);
    await watcher.next((message) => message.type === 'subscribed');
    // About 2 KB each: 40 of them take three frames of at most 32 KB.
    const events = Array.from({ length: 40 }, () => trackedEvent({ properties: { note: 'x'.repeat(2000) } }));
    const original = { write: Socket.prototype._write, writev: Socket.prototype._writev };
    const writes: string[] = [];
    // The server's end of a connection is the socket whose local port is the one it listens on.
    Socket.prototype._write = function (this: Socket, ...args: Parameters<Socket['_write']>) {
      if (this.localPort === serverPort) writes.push('write');
      return original.write.apply(this, args);
    };
    Socket.prototype._writev = function (this: Socket, ...args: Parameters<NonNullable<Socket['_writev']>>) {
      if (this.localPort === serverPort) writes.push('writev');
      return original.writev?.apply(this, args);
    };

    // Act
    try {
      hub.deliver([storedRows(TENANT_A, events)]);
    } finally {
      Socket.prototype._write = original.write;
      Socket.prototype._writev = original.writev;
    }

    // Assess
    expect(writes).toEqual(['writev']);
    expect(await watcher.receivedEvents(40)).toHaveLength(40);
    expect(watcher.messages.filter((message) => message.type === 'events').length).toBeGreaterThan(1);
  });
});
