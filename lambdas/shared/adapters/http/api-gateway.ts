import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { callerFromContext, type Caller, type Scope } from '../../domain/caller.js';
import {
  bodyTooLarge,
  CountersUnavailableError,
  DatabaseUnavailableError,
  ForbiddenError,
  MalformedBodyError,
  NotFoundError,
  PayloadTooLargeError,
  QueueUnavailableError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
  WriteKeysUnavailableError,
  type FieldIssue,
} from '../../domain/errors.js';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH, nestsDeeperThan } from '../../domain/limits.js';
import { describeError, log } from '../../logger.js';
import type { RateLimiter } from '../../ports/rate-limiter.js';
import { rateLimitHolder, retryAfterSeconds } from '../../domain/rate-limit.js';
import { headerValue } from './headers.js';
import type { RouteSpec } from './route-spec.js';

export type ApiEvent = APIGatewayProxyEvent;
export type ApiResult = APIGatewayProxyResult;

/** The caller the authorizer established, if it holds the scope the route needs. */
function authorizedCaller(event: ApiEvent, scope: Scope): Caller {
  const caller = callerFromContext(event.requestContext.authorizer);
  if (!caller) throw new UnauthorizedError('No valid credentials.');
  if (!caller.scopes.includes(scope)) throw new ForbiddenError(`This call needs the scope ${scope}.`);
  return caller;
}

/**
 * Fatal: a byte sequence that is not UTF-8 is refused, where Buffer#toString would turn it
 * into U+FFFD and the event would be stored changed. The BOM is kept, so JSON.parse refuses
 * it as before.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** gzip's magic bytes: what a body is, whatever headers a proxy on the way kept or dropped. */
const isGzip = (raw: Buffer): boolean => raw.byteLength >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;

/** RFC 1950: the method nibble 8 (deflate), and the first two bytes a multiple of 31. */
const hasZlibHeader = (raw: Buffer): boolean => raw.byteLength >= 2 && ((raw[0] as number) & 0x0f) === 8 && (((raw[0] as number) << 8) | (raw[1] as number)) % 31 === 0;

/** Inflates a compressed body within the limit, or names what is wrong with it. */
function inflated(raw: Buffer, codec: 'gzip' | 'deflate', maxBytes: number, tooLarge: (bytes: number, limit: number) => Error): Buffer {
  try {
    if (codec === 'gzip') return gunzipSync(raw, { maxOutputLength: maxBytes });
    // Content-Encoding: deflate is zlib's format (RFC 9110), which some clients send raw.
    return hasZlibHeader(raw) ? inflateSync(raw, { maxOutputLength: maxBytes }) : inflateRawSync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge(maxBytes + 1, maxBytes);
    throw new MalformedBodyError(codec === 'gzip' ? 'The body starts as gzip but does not inflate.' : 'The body is declared deflate (Content-Encoding) but does not inflate.');
  }
}

/** The codings API Gateway says it decodes, and this does. */
const KNOWN_CODINGS = new Set(['identity', 'gzip', 'x-gzip', 'deflate']);

/**
 * The body's bytes, inflated when they are gzip or declared deflate (Segment's mobile SDKs
 * compress; API Gateway's documentation says it decodes both). The inflated size is bounded, so a
 * small bomb cannot take the function's memory. Another declared coding is named in the 400,
 * where its bytes would only have been "not UTF-8".
 */
function bodyBytes(event: ApiEvent, maxBytes: number, tooLarge: (bytes: number, limit: number) => Error): Buffer {
  const raw = Buffer.from(event.body ?? '', 'base64');
  if (isGzip(raw)) return inflated(raw, 'gzip', maxBytes, tooLarge);
  const coding = headerValue(event, 'content-encoding')?.trim().toLowerCase();
  if (coding === 'deflate') return inflated(raw, 'deflate', maxBytes, tooLarge);
  if (coding && !KNOWN_CODINGS.has(coding)) throw new MalformedBodyError(`Content-Encoding ${coding.slice(0, 40)} is not supported: send the body as it is, gzip or deflate.`);
  if (raw.byteLength > maxBytes) throw tooLarge(raw.byteLength, maxBytes);
  return raw;
}

/**
 * The body as text. API Gateway hands a text body over as the string it is (every body, since
 * the API lists no binary media types): it is read as it is, its size measured in UTF-8. A body
 * passed as bytes (base64) may be compressed, and must be UTF-8.
 */
function bodyText(event: ApiEvent, maxBytes: number, tooLarge: (bytes: number, limit: number) => Error): string {
  if (!event.isBase64Encoded) {
    const text = event.body ?? '';
    // Never more bytes than 3 per UTF-16 unit: most bodies are not measured.
    const bytes = text.length * 3 <= maxBytes ? 0 : Buffer.byteLength(text);
    if (bytes > maxBytes) throw tooLarge(bytes, maxBytes);
    return text;
  }
  const raw = bodyBytes(event, maxBytes, tooLarge);
  try {
    return UTF8.decode(raw);
  } catch {
    throw new MalformedBodyError('The body is not valid UTF-8.');
  }
}

/** Reads a JSON body (plain, gzip or deflate, any content type: Segment's browser SDK sends text/plain). */
export function readJsonBody(event: ApiEvent, maxBytes = MAX_BODY_BYTES, tooLarge: (bytes: number, limit: number) => Error = bodyTooLarge): unknown {
  const text = bodyText(event, maxBytes, tooLarge);
  if (text.length === 0) throw new MalformedBodyError('The body is empty; a JSON document is expected.');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new MalformedBodyError(`The body is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}.`);
  }
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) throw new ValidationError([{ path: '', message: `nests deeper than ${MAX_JSON_DEPTH} levels` }]);
  return body;
}

function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

interface Problem {
  status: number;
  slug: string;
  title: string;
  detail: string;
  errors?: FieldIssue[];
  headers?: Record<string, string>;
}

function problemResponse({ status, slug, title, detail, errors, headers }: Problem): ApiResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type: `/problems/${slug}`, title, status, detail, ...(errors ? { errors } : {}) }),
  };
}

/** The one place where errors become HTTP answers (RFC 9457). Internals never leak. */
export function problemFromError(error: unknown, requestId: string): ApiResult {
  if (error instanceof ValidationError) {
    return problemResponse({ status: 400, slug: 'invalid-input', title: 'Invalid input', detail: error.message, errors: error.issues });
  }
  if (error instanceof MalformedBodyError) {
    return problemResponse({ status: 400, slug: 'malformed-body', title: 'Malformed body', detail: error.message, errors: [{ path: '', message: error.message }] });
  }
  if (error instanceof PayloadTooLargeError) {
    return problemResponse({ status: 413, slug: 'payload-too-large', title: 'Payload too large', detail: error.message, errors: error.issues });
  }
  if (error instanceof UnauthorizedError) {
    return problemResponse({ status: 401, slug: 'unauthorized', title: 'Unauthorized', detail: error.message, headers: { 'www-authenticate': error.challenge } });
  }
  if (error instanceof ForbiddenError) {
    return problemResponse({ status: 403, slug: 'forbidden', title: 'Forbidden', detail: error.message });
  }
  if (error instanceof NotFoundError) {
    return problemResponse({ status: 404, slug: 'not-found', title: 'Not found', detail: error.message });
  }
  if (error instanceof RateLimitedError) {
    return problemResponse({ status: 429, slug: 'rate-limited', title: 'Too many requests', detail: error.message, headers: { 'retry-after': String(error.retryAfterSeconds) } });
  }
  if (error instanceof QueueUnavailableError) {
    return problemResponse({ status: 503, slug: 'unavailable', title: 'Service unavailable', detail: error.message, headers: { 'retry-after': '1' } });
  }
  if (error instanceof DatabaseUnavailableError) {
    log('warn', 'database unavailable', { requestId, ...describeError(error) });
    return problemResponse({ status: 503, slug: 'unavailable', title: 'Service unavailable', detail: error.message, headers: { 'retry-after': String(error.retryAfterSeconds) } });
  }
  if (error instanceof WriteKeysUnavailableError) {
    log('warn', 'write keys unavailable', { requestId, ...describeError(error) });
    return problemResponse({ status: 503, slug: 'unavailable', title: 'Service unavailable', detail: error.message, headers: { 'retry-after': '1' } });
  }
  if (error instanceof CountersUnavailableError) {
    return problemResponse({ status: 503, slug: 'unavailable', title: 'Service unavailable', detail: error.message, headers: { 'retry-after': '5' } });
  }
  log('error', 'unhandled error', { requestId, ...describeError(error) });
  return problemResponse({ status: 500, slug: 'internal', title: 'Internal error', detail: `Something failed on our side; quote request ${requestId}.` });
}

export type ApiHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

/** An answer whose body is produced while it is sent (the CSV export): chunks of text, in order. */
export interface StreamedResult {
  statusCode: number;
  headers: Record<string, string>;
  chunks: AsyncIterable<string>;
}

/** A route that streams its answer; its refusals and failures are ordinary problem+json answers. */
export type StreamingApiHandler = (event: ApiEvent, context: Context) => Promise<ApiResult | StreamedResult>;

export const isStreamed = (result: ApiResult | StreamedResult): result is StreamedResult => 'chunks' in result;

/** The CORS headers for a request from `origin`, if the deployment allows that origin. */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (!origin || !allowed.includes(origin)) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-headers': 'authorization,content-type',
    'access-control-allow-methods': 'GET,POST,DELETE,OPTIONS',
    'access-control-max-age': '3600',
    vary: 'Origin',
  };
}

/**
 * CORS for every origin (Segment's routes): no credentials are allowed, so no cookie of ours
 * rides along; analytics-next sends Authorization and X-Retry-Count.
 */
export const ANY_ORIGIN_CORS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization,content-type,x-retry-count',
  'access-control-allow-methods': 'GET,POST,OPTIONS',
  'access-control-max-age': '3600',
};

/**
 * Where this API is, as the client reached it: API Gateway's own domain and stage prefix (not
 * the client's Host header, which a caller could set to anything), the Host header locally.
 */
export function publicBase(event: ApiEvent): { protocol: 'http' | 'https'; host: string } {
  const { domainName, path: fullPath } = event.requestContext as { domainName?: string; path?: string };
  if (domainName) {
    const prefix = fullPath?.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
    return { protocol: 'https', host: `${domainName}${prefix}` };
  }
  return { protocol: headerValue(event, 'x-forwarded-proto') === 'https' ? 'https' : 'http', host: headerValue(event, 'host') ?? 'localhost' };
}

/** Refuses the request before any work when the caller's tenant is over its request rate. */
async function checkRequestRate(limiter: RateLimiter, event: ApiEvent): Promise<void> {
  const caller = callerFromContext(event.requestContext.authorizer);
  if (!caller) return;
  const decision = await limiter.take(caller.tenantId, rateLimitHolder(caller.subject), 'requests', 1);
  if (!decision.allowed) {
    throw new RateLimitedError(retryAfterSeconds(decision), 'More requests per second than this tenant (or this write key) may send; retry after the Retry-After delay.');
  }
}

/** Browser origins allowed to call the API; API Gateway (or the emulator) answers their preflight. */
export interface HttpSettings {
  corsOrigins: readonly string[];
}

/** What a route's handler is given: a caller exactly when the route has a scope. */
export interface RouteRequest<Route extends RouteSpec> {
  event: ApiEvent;
  context: Context;
  caller: Route extends { scope: Scope } ? Caller : undefined;
}

/** A route with a caller is rate-limited per tenant; a public one is not. */
export type RoutePorts<Route extends RouteSpec> = Route extends { scope: Scope } ? { limiter: RateLimiter; http: HttpSettings } : { http: HttpSettings };

/** The answer a route's handler returns, before JSON: its schema in the route table says what it is. */
export type RouteAnswer<Route extends RouteSpec> = z.input<Route['answer']['schema']>;

/**
 * Serves one entry of the route table: the tenant's request rate is checked first, then the
 * route's scope; the handler's answer goes out with the route's status and headers; whatever
 * is thrown is answered as problem+json; every request leaves one JSON log line with its
 * request id, tenant, route, status and duration.
 */
export function routeHandler<Route extends RouteSpec>(
  route: Route,
  ports: RoutePorts<Route>,
  handle: (request: RouteRequest<Route>) => Promise<RouteAnswer<Route>>,
): ApiHandler {
  return servedRoute<Route, ApiResult>(route, ports, async (request) => jsonResponse(route.answer.status, await handle(request), route.answer.headers));
}

/**
 * `routeHandler` for an answer streamed as it is produced: the handler gives its headers (a
 * download's file name) and its chunks; the route's status, content type and headers go with them.
 */
export function streamingRouteHandler<Route extends RouteSpec>(
  route: Route,
  ports: RoutePorts<Route>,
  handle: (request: RouteRequest<Route>) => Promise<{ headers: Record<string, string>; chunks: AsyncIterable<string> }>,
): StreamingApiHandler {
  return servedRoute<Route, StreamedResult>(route, ports, async (request) => {
    const { headers, chunks } = await handle(request);
    return { statusCode: route.answer.status, headers: { 'content-type': route.answer.contentType ?? 'application/octet-stream', ...route.answer.headers, ...headers }, chunks };
  });
}

function servedRoute<Route extends RouteSpec, Result extends ApiResult | StreamedResult>(
  route: Route,
  ports: RoutePorts<Route>,
  respond: (request: RouteRequest<Route>) => Promise<Result>,
): (event: ApiEvent, context: Context) => Promise<Result | ApiResult> {
  const { limiter } = ports as { limiter?: RateLimiter };
  // With a proxy integration the function, not API Gateway, answers CORS on real requests.
  const { corsOrigins } = ports.http;
  const started = new WeakMap<Context, number>();
  type Request = middy.Request<ApiEvent, Result | ApiResult>;
  const addCors = (request: Request): void => {
    if (request.response) {
      const cors = route.cors === 'any-origin' ? ANY_ORIGIN_CORS : corsHeaders(headerValue(request.event, 'origin'), corsOrigins);
      request.response.headers = { ...request.response.headers, ...cors };
    }
  };
  const logRequest = (request: Request): void => {
    log('info', 'request', {
      requestId: request.context.awsRequestId,
      tenantId: callerFromContext(request.event.requestContext.authorizer)?.tenantId,
      route: `${request.event.httpMethod} ${request.event.resource}`,
      status: request.response?.statusCode,
      durationMs: Date.now() - (started.get(request.context) ?? Date.now()),
    });
  };
  return middy<ApiEvent, Result | ApiResult>()
    .use({
      before: async (request) => {
        started.set(request.context, Date.now());
        if (limiter) await checkRequestRate(limiter, request.event);
      },
      after: (request) => {
        addCors(request);
        logRequest(request);
      },
      onError: (request) => {
        request.response = problemFromError(request.error, request.context.awsRequestId);
        addCors(request);
        logRequest(request);
      },
    })
    .handler(async (event, context) => {
      const caller = (route.scope ? authorizedCaller(event, route.scope) : undefined) as RouteRequest<Route>['caller'];
      return respond({ event, context, caller });
    });
}
