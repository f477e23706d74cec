import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../../support/api-client.js';
import { TENANT_A, TENANT_B } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';
import { connectStream, eventIdsOf } from '../../support/stream-client.js';

// `npm start` on DATABASE_URL writes in a worker thread: the hub is in the HTTP thread, so the
// subscribed tenants go to the writer and its stored events come back across the threads.
describe.runIf(process.env['DATABASE_URL'])('the live stream with the writer in its own thread', () => {
  let app: RunningRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ writerThread: true });
  });

  afterAll(async () => {
    await app.stop();
  });

  it('relays the stored events of a streamed tenant from the writer thread, as GET answers them, and nothing of another tenant', async () => {
    const [tokenA, tokenB] = await Promise.all([app.token(TENANT_A), app.token(TENANT_B)]);
    const client = connectStream(app.runtime.url, { token: tokenA });
    try {
      await client.next((message) => message.type === 'subscribed');
      const ids = [randomUUID(), randomUUID()];
      const send = (token: string, eventIds: string[]) =>
        callApi(app.runtime.url, 'POST', '/v1/events/batch', { token, body: { events: eventIds.map((id) => ({ id, type: 'CUSTOM', category: 'thread', action: 'relay' })) } });

      await send(tokenB, [randomUUID()]);
      await send(tokenA, ids);

      expect(await client.receivedEvents(2)).toEqual(expect.arrayContaining(ids));
      await app.runtime.eventSource.drained();
      expect(eventIdsOf(client.messages).sort()).toEqual([...ids].sort());
      const streamed = client.messages.flatMap((message) => (message.type === 'events' ? message.events : [])).find((event) => event.eventId === ids[0]);
      expect(streamed).toEqual((await callApi(app.runtime.url, 'GET', `/v1/events/${ids[0]}`, { token: tokenA })).body);
    } finally {
      client.socket.terminate();
    }
  });
});
