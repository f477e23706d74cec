import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { problemFromError, readJsonBody, routeHandler, type ApiEvent } from '../../../../../lambdas/shared/adapters/http/api-gateway.js';
import type { RouteSpec } from '../../../../../lambdas/shared/adapters/http/route-spec.js';
import { bodyTooLarge, DatabaseUnavailableError, MalformedBodyError, ValidationError } from '../../../../../lambdas/shared/domain/errors.js';
import { TENANT_A } from '../../../../support/factories.js';
import { recordingLimiter } from '../../../../support/fake-limits.js';

const context = { awsRequestId: 'req-42' } as Context;
const event = {
  httpMethod: 'POST',
  resource: '/v1/events',
  requestContext: { authorizer: { tenantId: TENANT_A, subject: 'u1', scopes: 'events:write' } },
} as unknown as ApiEvent;

afterEach(() => {
  vi.restoreAllMocks();
});

const route = {
  method: 'POST',
  path: '/v1/events',
  summary: 'A route of the test',
  scope: 'events:write',
  answer: { status: 202, description: 'Taken', schema: z.strictObject({}) },
} satisfies RouteSpec;
const ports = { limiter: recordingLimiter(), http: { corsOrigins: [] } };

describe('problemFromError', () => {
  it('answers an unexpected error with a 500 that names the request and nothing else', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const answer = problemFromError(new Error('connection to 10.0.3.7:5432 refused; password=hunter2'), 'req-42');
    expect(answer.statusCode).toBe(500);
    expect(answer.body).toContain('req-42');
    expect(answer.body).not.toMatch(/10\.0\.3\.7|hunter2|refused/);
  });

  it('lists every field of a validation error', () => {
    const answer = problemFromError(new ValidationError([{ path: 'a', message: 'x' }, { path: 'b.c', message: 'y' }]), 'r');
    expect(JSON.parse(answer.body)).toMatchObject({ status: 400, errors: [{ path: 'a' }, { path: 'b.c' }] });
    expect(answer.headers?.['content-type']).toBe('application/problem+json');
  });
});

describe('problemFromError for a database that is resuming', () => {
  it('answers 503 problem+json with the Retry-After the error gives, never a 500', () => {
    const answer = problemFromError(new DatabaseUnavailableError(12, 'The database did not answer within 5 s.'), 'r');
    expect(answer.statusCode).toBe(503);
    expect(answer.headers).toMatchObject({ 'content-type': 'application/problem+json', 'retry-after': '12' });
    expect(JSON.parse(answer.body)).toEqual({ type: '/problems/unavailable', title: 'Service unavailable', status: 503, detail: 'The database did not answer within 5 s.' });
  });
});

describe('problemFromError for a body too large', () => {
  it('answers 413 with the body named in errors', () => {
    const answer = problemFromError(bodyTooLarge(12, 10), 'r');
    expect(answer.statusCode).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ detail: 'The body is 12 bytes; the limit is 10.', errors: [{ path: '', message: 'The body is 12 bytes; the limit is 10.' }] });
  });
});

describe('readJsonBody', () => {
  const withBytes = (bytes: Buffer): ApiEvent => ({ ...event, body: bytes.toString('base64'), isBase64Encoded: true });

  it('refuses bytes that are not UTF-8 instead of reading them as U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from('{"label":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    expect(() => readJsonBody(withBytes(bytes))).toThrow(new MalformedBodyError('The body is not valid UTF-8.'));
  });

  it('reads multi-byte UTF-8 as sent', () => {
    expect(readJsonBody(withBytes(Buffer.from('{"label":"Zoë € 😀"}')))).toEqual({ label: 'Zoë € 😀' });
  });

  describe('a compressed body passed as bytes', () => {
    const coded = (bytes: Buffer, coding?: string): ApiEvent => ({ ...withBytes(bytes), headers: coding ? { 'Content-Encoding': coding } : {} });
    const json = Buffer.from('{"label":"Zoë"}');

    it('is inflated when gzip, whatever the headers say', () => {
      expect(readJsonBody(coded(gzipSync(json)))).toEqual({ label: 'Zoë' });
    });

    it('is inflated when declared deflate, zlib-wrapped or raw, as API Gateway inflates it', () => {
      expect(readJsonBody(coded(deflateSync(json), 'deflate'))).toEqual({ label: 'Zoë' });
      expect(readJsonBody(coded(deflateRawSync(json), 'Deflate'))).toEqual({ label: 'Zoë' });
    });

    it('is refused naming the coding when it is one API Gateway does not decode', () => {
      expect(() => readJsonBody(coded(brotliCompressSync(json), 'br'))).toThrow(new MalformedBodyError('Content-Encoding br is not supported: send the body as it is, gzip or deflate.'));
    });

    it('is refused as too large when it inflates past the limit, and named when it does not inflate', () => {
      expect(() => readJsonBody(coded(deflateSync(Buffer.alloc(100_000, 0x20)), 'deflate'), 1000)).toThrow(bodyTooLarge(1001, 1000));
      expect(() => readJsonBody(coded(Buffer.from('not deflate at all'), 'deflate'))).toThrow(new MalformedBodyError('The body is declared deflate (Content-Encoding) but does not inflate.'));
    });
  });

  describe('a text body, as the deployed API hands every body over', () => {
    const withText = (body: string | null): ApiEvent => ({ ...event, body, isBase64Encoded: false });

    it('reads it as it is', () => {
      expect(readJsonBody(withText('{"label":"Zoë € 😀"}'))).toEqual({ label: 'Zoë € 😀' });
    });

    it('measures its size in UTF-8 bytes, not in characters', () => {
      // 12 characters of 3 bytes each: 36 bytes, over a limit of 20 that the length is under.
      const body = `"${'€'.repeat(12)}"`;
      expect(() => readJsonBody(withText(body), 20)).toThrow(bodyTooLarge(38, 20));
      expect(readJsonBody(withText(body), 38)).toBe('€'.repeat(12));
    });

    it('refuses an empty or missing body', () => {
      expect(() => readJsonBody(withText(''))).toThrow(new MalformedBodyError('The body is empty; a JSON document is expected.'));
      expect(() => readJsonBody(withText(null))).toThrow(new MalformedBodyError('The body is empty; a JSON document is expected.'));
    });

    it('refuses a byte order mark, as the bytes of one are refused', () => {
      expect(() => readJsonBody(withText('\uFEFF{}'))).toThrow(MalformedBodyError);
      expect(() => readJsonBody(withBytes(Buffer.from('\uFEFF{}')))).toThrow(MalformedBodyError);
    });
  });
});

describe('routeHandler', () => {
  it('logs one JSON line per request with request id, tenant, route and status', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line));

    await routeHandler(route, ports, async () => ({}))(event, context);

    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ message: 'request', requestId: 'req-42', tenantId: TENANT_A, route: 'POST /v1/events', status: 202 }),
    ]);
  });

  it('logs the status of a request that failed', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line));

    const answer = await routeHandler(route, ports, async () => {
      throw new ValidationError([{ path: 'type', message: 'bad' }]);
    })(event, context);

    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ status: 400, tenantId: TENANT_A });
  });
});
