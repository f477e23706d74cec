import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiGatewayEmulator } from '../../../../../lambdas/shared/adapters/local/api-gateway-emulator.js';

const seen: APIGatewayProxyEvent[] = [];
const server = createApiGatewayEmulator(
  [
    {
      method: 'POST',
      path: '/v1/echo',
      authorized: false,
      handler: async (event) => {
        seen.push(event);
        return { statusCode: 200, body: '{}' };
      },
    },
  ],
  async () => {
    throw new Error('no route here is authorized');
  },
  [],
);
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/echo`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The proxy event the handler got for these bytes. */
async function eventFor(body: Buffer | string, headers: Record<string, string> = {}): Promise<APIGatewayProxyEvent> {
  seen.length = 0;
  const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  expect(answer.status).toBe(200);
  const [event] = seen;
  if (!event) throw new Error('the handler was not called');
  return event;
}

describe('the proxy event body', () => {
  it('is the text as it is for UTF-8, as the deployed API (no binary media types) hands it over', async () => {
    const event = await eventFor('{"label":"Zoë € 😀"}');
    expect(event).toMatchObject({ body: '{"label":"Zoë € 😀"}', isBase64Encoded: false });
  });

  it('is base64 for bytes that are not UTF-8, so the handler sees them as sent and can refuse them', async () => {
    const bytes = Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d]);
    const event = await eventFor(bytes);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);
  });

  it('is base64 for gzip, whose bytes are never UTF-8', async () => {
    const gzip = gzipSync('{"a":1}');
    const event = await eventFor(gzip, { 'content-encoding': 'gzip' });
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(gzip);
  });

  it('is null when there is none', async () => {
    expect(await eventFor('')).toMatchObject({ body: null, isBase64Encoded: false });
  });
});
