import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayTokenAuthorizerEvent, Context } from 'aws-lambda';
import { bodyTooLarge, NotFoundError, PayloadTooLargeError, UnauthorizedError } from '../../domain/errors.js';
import { MAX_BODY_BYTES } from '../../domain/limits.js';
import { describeError, log } from '../../logger.js';
import { ANY_ORIGIN_CORS, corsHeaders, isStreamed, problemFromError, type ApiResult, type StreamedResult } from '../http/api-gateway.js';

export interface LocalRoute {
  method: string;
  /** API Gateway resource path, e.g. `/v1/events/{eventId}`. */
  path: string;
  authorized: boolean;
  /** Preflights answered for every origin (the Segment routes), not only the configured ones. */
  anyOrigin?: boolean;
  handler: (event: APIGatewayProxyEvent, context: Context) => Promise<ApiResult | StreamedResult>;
}

export type Authorizer = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** Serves what is not an API route (the web app's files); false when it has nothing there. */
export type StaticFiles = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

function lambdaContext(requestId: string, functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A segment whose percent-encoding is broken (`%E0%A4%A`) names no resource: a 404, not a throw. */
function decodePathSegment(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** The path parameters if `path` fits the resource `pattern` (`/v1/events/{eventId}`). */
function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const expected = pattern.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  const matches = expected.every((segment, index) => {
    const value = actual[index] ?? '';
    if (segment.startsWith('{') && segment.endsWith('}')) {
      const decoded = decodePathSegment(value);
      if (decoded === undefined) return false;
      params[segment.slice(1, -1)] = decoded;
      return value.length > 0;
    }
    return segment === value;
  });
  return matches ? params : undefined;
}

function matchRoute(routes: LocalRoute[], method: string, path: string): { route: LocalRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const params = route.method === method ? matchPath(route.path, path) : undefined;
    if (params) return { route, params };
  }
  return undefined;
}

/**
 * How much of a refused body is still read and thrown away. An HTTP client that is cut off
 * while it sends reports a reset, not the 413 (Node's own did, 8 times in 10, for a body of
 * 6 MB), so the rest is taken in first, as far as this; past it the connection is dropped.
 */
const DISCARDED_BODY_BYTES = 64 * 1024 * 1024;

/** The client went away before its body was in: there is no one to answer, and nothing failed here. */
class ClientGoneError extends Error {}

/**
 * Reads the body, keeping none of it (like API Gateway) once it passes the limit. Declared or
 * streamed, a body over the limit is refused when it has been read, or when it passes
 * DISCARDED_BODY_BYTES; one declared larger than that is refused at once.
 */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    let refusal: Error | undefined = declared > maxBytes ? bodyTooLarge(declared, maxBytes) : undefined;
    // Not worth reading: answered at once, and the connection closed after the answer.
    if (refusal && declared > DISCARDED_BODY_BYTES) {
      reject(refusal);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (!refusal && size > maxBytes) {
        refusal = new PayloadTooLargeError(`The body is over the limit of ${maxBytes} bytes.`);
        chunks.length = 0;
      }
      if (!refusal) chunks.push(chunk);
      else if (size > DISCARDED_BODY_BYTES) {
        settle(() => reject(refusal));
        request.destroy();
      }
    });
    request.on('end', () => settle(() => (refusal ? reject(refusal) : resolve(Buffer.concat(chunks)))));
    request.on('error', () => settle(() => reject(new ClientGoneError())));
    request.on('close', () => settle(() => reject(new ClientGoneError())));
  });
}

/**
 * The body as the deployed API hands it over: text as the string it is (the API lists no
 * binary media types). Bytes that are not UTF-8, gzip among them, and a body declared
 * compressed (whose bytes may happen to be UTF-8) are passed base64, so that the handler sees
 * them as sent and inflates or refuses them.
 */
function proxyBody(body: Buffer, contentEncoding: string | undefined): Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'> {
  if (body.byteLength === 0) return { body: null, isBase64Encoded: false };
  const declaredCompressed = contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity';
  return isUtf8(body) && !declaredCompressed ? { body: body.toString('utf8'), isBase64Encoded: false } : { body: body.toString('base64'), isBase64Encoded: true };
}

function send(response: ServerResponse, result: ApiResult): void {
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([key, value]) => [key, String(value)]));
  response.writeHead(result.statusCode, headers);
  response.end(result.body);
}

/** Until the socket takes more, or is gone; both listeners go with it (one per wait would pile up). */
function writable(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/**
 * A streamed answer, chunk by chunk (chunked transfer encoding), as API Gateway's STREAM mode
 * sends it: a full socket buffer holds back the next chunk, and so the next page read; a client
 * that goes away stops the reading. Once the status is sent, a failure can only cut it off.
 */
async function sendStreamed(response: ServerResponse, result: StreamedResult, requestId: string): Promise<void> {
  response.writeHead(result.statusCode, result.headers);
  const chunks = result.chunks[Symbol.asyncIterator]();
  try {
    for (let next = await chunks.next(); !next.done && !response.destroyed; next = await chunks.next()) {
      if (!response.write(next.value)) await writable(response);
    }
    response.end();
  } catch (error) {
    log('error', 'streamed answer cut off', { requestId, ...describeError(error) });
    response.destroy();
  } finally {
    await chunks.return?.();
  }
}

function singleValues(headers: IncomingMessage['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, Array.isArray(value) ? value.join(',') : value ?? '']));
}

/**
 * What API Gateway (REST API, TOKEN authorizer) does in front of the handlers, on one port:
 * route matching, the authorizer call, the proxy event, the body limit. The handlers are the
 * deployed ones.
 */
/** API Gateway refuses request headers over 10 KB in all; the emulator does the same. */
export const MAX_HEADER_BYTES = 10 * 1024;

const HEADER_TOO_LARGE = JSON.stringify({ type: '/problems/headers-too-large', title: 'Request headers too large', status: 431, detail: `Headers are limited to ${MAX_HEADER_BYTES} bytes.` });

export function createApiGatewayEmulator(routes: LocalRoute[], authorize: Authorizer, corsOrigins: readonly string[], maxBodyBytes = MAX_BODY_BYTES, staticFiles?: StaticFiles): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (request, response) => {
    const requestId = randomUUID();
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      // Preflight is API Gateway's own answer (the CDK API sets the same origins).
      const preflighted = request.method === 'OPTIONS' ? routes.find((route) => matchPath(route.path, url.pathname)) : undefined;
      if (preflighted) {
        send(response, { statusCode: 204, headers: preflighted.anyOrigin ? { ...ANY_ORIGIN_CORS } : corsHeaders(request.headers.origin, corsOrigins), body: '' });
        return;
      }
      const match = matchRoute(routes, request.method ?? 'GET', url.pathname);
      // API Gateway owns /v1 in AWS; what is outside it is the web app (CloudFront there).
      if (!match && !url.pathname.startsWith('/v1/') && staticFiles && (await staticFiles(request, response))) return;
      if (!match) throw new NotFoundError(`No route ${request.method} ${url.pathname}.`);
      const body = await readBody(request, maxBodyBytes);
      let authorizerContext: Record<string, unknown> | undefined;
      if (match.route.authorized) {
        const result = await authorize({
          type: 'TOKEN',
          authorizationToken: request.headers.authorization ?? '',
          methodArn: `arn:aws:execute-api:local:000000000000:local/v1/${match.route.method}${match.route.path}`,
        }).catch(() => undefined);
        if (!result) throw new UnauthorizedError('Missing or invalid bearer token.');
        authorizerContext = { principalId: result.principalId, ...result.context };
      }
      const event = {
        resource: match.route.path,
        path: url.pathname,
        httpMethod: match.route.method,
        headers: singleValues(request.headers),
        multiValueHeaders: {},
        queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
        multiValueQueryStringParameters: null,
        pathParameters: Object.keys(match.params).length > 0 ? match.params : null,
        stageVariables: null,
        ...proxyBody(body, request.headers['content-encoding']),
        requestContext: { requestId, authorizer: authorizerContext },
        // Only the fields the handlers read are filled; the rest of API Gateway's request
        // context (account, identity, stage...) has no local meaning.
      } as unknown as APIGatewayProxyEvent;
      const result = await match.route.handler(event, lambdaContext(requestId, `${match.route.method} ${match.route.path}`));
      if (isStreamed(result)) await sendStreamed(response, result, requestId);
      else send(response, result);
    })().catch((error: unknown) => {
      if (error instanceof ClientGoneError) {
        log('info', 'client went away before its body was in', { requestId });
        response.destroy();
        return;
      }
      const answer = problemFromError(error, requestId);
      // Answered before the body was read: kept open, Node would read all of it (the 200 MB a
      // client declares) to keep the connection.
      send(response, request.complete ? answer : { ...answer, headers: { ...answer.headers, connection: 'close' } });
    });
  });
  // Node answers an oversized header block with a bare 431; answer it as problem+json instead.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'HPE_HEADER_OVERFLOW' && socket.writable) {
      socket.end(`HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(HEADER_TOO_LARGE)}\r\nconnection: close\r\n\r\n${HEADER_TOO_LARGE}`);
    } else {
      socket.destroy();
    }
  });
  return server;
}
