import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { deflateRawSync, gzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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
let port = 0;
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}/v1/echo`;
});

afterAll(async () => {
  keptAlive.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Node's own client, which writes the whole body before it reads the answer, on one kept-alive
 * connection as its global agent keeps them.
 */
const keptAlive = new Agent({ keepAlive: true });
function postWithNode(body: Buffer, chunked: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = chunked ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', 'content-length': String(body.byteLength) };
    const sent = httpRequest(url, { method: 'POST', headers, agent: keptAlive }, (answer) => {
      answer.resume();
      answer.on('end', () => resolve(answer.statusCode ?? 0));
    });
    sent.on('error', reject);
    sent.write(body);
    sent.end();
  });
}

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

  it('is base64 for a body declared compressed, even when its bytes happen to be UTF-8', async () => {
    const deflated = deflateRawSync('1');
    expect(deflated.toString('utf8')).not.toContain('\uFFFD');
    const event = await eventFor(deflated, { 'content-encoding': 'deflate' });
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(deflated);
  });

  it('is null when there is none', async () => {
    expect(await eventFor('')).toMatchObject({ body: null, isBase64Encoded: false });
  });
});

describe('a body over the limit', () => {
  // 6 MB against the limit of 5 MiB: the client is still writing when the gateway has seen enough.
  const body = Buffer.alloc(6 * 1024 * 1024, 0x20);

  it('is answered 413, declared or chunked, on a kept-alive connection, not cut off while the client sends', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) statuses.push(await postWithNode(body, true), await postWithNode(body, false));
    expect(statuses).toEqual([413, 413, 413, 413, 413, 413]);
  });
});

describe('a body declared far over the limit', () => {
  it('is answered 413 at once and the connection closed, not read to its declared end', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${200 * 1024 * 1024}\r\n\r\n{"a":`);
    await closed;

    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
  });
});

describe('a client that goes away before its body is in', () => {
  it('is no error of the server: nothing is logged as one, and the next request is served', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line));
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"a":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await vi.waitFor(() => expect(lines.join('\n')).toContain('client went away'));

    expect(errors).not.toHaveBeenCalled();
    expect((await eventFor('{"after":true}')).body).toBe('{"after":true}');
  });
});
