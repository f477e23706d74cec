import { z } from 'zod';
import { API_ROUTES, type HttpFunction } from '../routes.js';
import type { Scope } from './domain/caller.js';
import { AnalyticsEventSchema, BatchEventsSchema } from './domain/event-schemas.js';
import { MAX_BATCH_EVENTS, MAX_BODY_BYTES, MAX_EVENT_BYTES } from './domain/limits.js';
import { CreateWriteKeySchema, KeyIdSchema } from './domain/write-keys.js';
import { AggregationQuerySchema, AuditQuerySchema, EventQuerySchema, EventTypesQuerySchema, PurgeQuerySchema } from './domain/query-schemas.js';

type JsonSchema = Record<string, unknown>;

/**
 * The request schemas as JSON Schema 2020-12 (OpenAPI 3.1's dialect), from the same zod
 * schemas that validate requests. Free-form objects (properties, property filters) are
 * `z.custom` checks, which JSON Schema renders as open objects.
 */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === 'custom') Object.assign(ctx.jsonSchema, { type: 'object', additionalProperties: true });
    },
  });
  return rest;
}

const EVENT_ANSWER: JsonSchema = {
  type: 'object',
  required: ['eventId', 'timestamp', 'type', 'category', 'action', 'properties', 'context', 'metadata', 'receivedAt', 'storedAt'],
  properties: {
    eventId: { type: 'string', format: 'uuid' },
    timestamp: { type: 'string', format: 'date-time' },
    type: { type: 'string' },
    category: { type: 'string' },
    action: { type: 'string' },
    label: { type: ['string', 'null'] },
    value: { type: ['number', 'null'] },
    userId: { type: ['string', 'null'], format: 'uuid' },
    sessionId: { type: ['string', 'null'] },
    properties: { type: 'object' },
    context: { type: 'object' },
    metadata: { type: 'object' },
    receivedAt: { type: 'string', format: 'date-time' },
    storedAt: { type: 'string', format: 'date-time' },
  },
};

const FIELD_ERRORS: JsonSchema = {
  type: 'array',
  items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
};

const PROBLEM: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: FIELD_ERRORS,
  },
};

const WRITE_KEY_PROPERTIES: JsonSchema = {
  keyId: { type: 'string' },
  name: { type: 'string' },
  scopes: { type: 'array', items: { type: 'string' } },
  createdAt: { type: 'string', format: 'date-time' },
  createdBy: { type: 'string' },
  revokedAt: { type: 'string', format: 'date-time' },
  revokedBy: { type: 'string' },
};
const WRITE_KEY: JsonSchema = { type: 'object', properties: WRITE_KEY_PROPERTIES };

interface RouteDoc {
  summary: string;
  scope?: Scope;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Path parameters, when they are not event ids. */
  path?: z.ZodType;
  /** The route hands events to the queue, which can refuse them (503). */
  queues?: true;
  /** When a body is over a limit (413), if more than the whole body's limit applies. */
  tooLarge?: string;
  success: { status: number; description: string; schema: JsonSchema };
}

const nullableNumber = { type: ['number', 'null'] };

const ROUTE_DOCS: Record<HttpFunction, RouteDoc> = {
  health: { summary: 'Liveness', success: { status: 200, description: 'The API answers', schema: { type: 'object', properties: { status: { const: 'ok' } } } } },
  'track-event': {
    summary: `Track one event (at most ${MAX_EVENT_BYTES} bytes)`,
    scope: 'events:write',
    body: AnalyticsEventSchema,
    queues: true,
    tooLarge: `The event is over ${MAX_EVENT_BYTES} bytes, or the body over ${MAX_BODY_BYTES}`,
    success: { status: 202, description: 'Queued; readable within seconds', schema: { type: 'object', properties: { eventId: { type: 'string', format: 'uuid' } } } },
  },
  'track-batch': {
    summary: `Track up to ${MAX_BATCH_EVENTS} events (body at most ${MAX_BODY_BYTES} bytes); a receipt per index`,
    scope: 'events:write',
    body: BatchEventsSchema,
    queues: true,
    success: {
      status: 200,
      description: `Every index accepted (its eventId) or rejected (zod path and message; an event over ${MAX_EVENT_BYTES} bytes is "event too large", one the queue did not take "not queued, retry later")`,
      schema: {
        type: 'object',
        properties: {
          total: { type: 'integer' },
          successful: { type: 'array', items: { type: 'string', format: 'uuid' } },
          failed: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, error: { type: 'string' }, errors: FIELD_ERRORS } } },
        },
      },
    },
  },
  'get-event': { summary: "One event of the caller's tenant", scope: 'events:read', success: { status: 200, description: 'The event', schema: EVENT_ANSWER } },
  'query-events': {
    summary: 'Filter events; page by offset or by the keyset cursor',
    scope: 'events:read',
    body: EventQuerySchema,
    success: {
      status: 200,
      description: 'One page',
      schema: {
        type: 'object',
        properties: { events: { type: 'array', items: EVENT_ANSWER }, total: { type: 'integer' }, hasMore: { type: 'boolean' }, nextCursor: { type: ['string', 'null'] } },
      },
    },
  },
  'aggregate-events': {
    summary: 'Time buckets (in a time zone) with counts, exact unique users and value statistics',
    scope: 'events:read',
    body: AggregationQuerySchema,
    success: {
      status: 200,
      description: 'Buckets and a summary over the same filters',
      schema: {
        type: 'object',
        properties: {
          data: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                period: { type: 'string', format: 'date-time' },
                count: { type: 'integer' },
                uniqueUsers: { type: 'integer' },
                totalValue: { ...nullableNumber, description: 'null only when valueOutOfRange is set' },
                avgValue: nullableNumber,
                minValue: nullableNumber,
                maxValue: nullableNumber,
                p50: nullableNumber,
                p95: nullableNumber,
                p99: nullableNumber,
                valueOutOfRange: { const: true, description: 'present when the sum of the values is past the largest double; totalValue and avgValue are then null' },
                event_type: { type: 'string' },
                category: { type: 'string' },
                action: { type: 'string' },
                user_id: { type: ['string', 'null'] },
              },
            },
          },
          summary: {
            type: 'object',
            properties: { totalEvents: { type: 'integer' }, uniqueUsers: { type: 'integer' }, uniqueSessions: { type: 'integer' }, categories: { type: 'integer' }, actions: { type: 'integer' } },
          },
        },
      },
    },
  },
  'list-event-types': {
    summary: 'Per event type: count, unique users, first and last seen, ingestion lag',
    scope: 'events:read',
    query: EventTypesQuerySchema,
    success: {
      status: 200,
      description: 'One row per type present in the range',
      schema: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            type: { type: 'string' },
            count: { type: 'integer' },
            uniqueUsers: { type: 'integer' },
            firstSeen: { type: 'string', format: 'date-time' },
            lastSeen: { type: 'string', format: 'date-time' },
            ingestionLagMs: { type: 'object', properties: { p50: { type: 'number' }, p95: { type: 'number' } } },
          },
        },
      },
    },
  },
  'purge-events': {
    summary: "Delete the tenant's events older than `olderThan`, in batches; audited as EVENTS_PURGED",
    scope: 'admin',
    query: PurgeQuerySchema,
    success: { status: 200, description: 'How many events were deleted', schema: { type: 'object', properties: { deleted: { type: 'integer' } } } },
  },
  'list-audit': {
    summary: "The tenant's audit log, newest first",
    scope: 'admin',
    query: AuditQuerySchema,
    success: {
      status: 200,
      description: 'One page; pass nextBefore as before for the next',
      schema: {
        type: 'object',
        properties: {
          entries: { type: 'array', items: { type: 'object', properties: { auditId: { type: 'integer' }, occurredAt: { type: 'string', format: 'date-time' }, action: { type: 'string' }, actor: { type: 'string' }, details: { type: 'object' } } } },
          nextBefore: { type: ['integer', 'null'] },
        },
      },
    },
  },
  'create-write-key': {
    summary: 'Create a write key (scope events:write only) for a browser or server; the key is in this answer only',
    scope: 'admin',
    body: CreateWriteKeySchema,
    success: { status: 201, description: 'The key: send it as `Authorization: Bearer wk_...`', schema: { type: 'object', properties: { ...WRITE_KEY_PROPERTIES, key: { type: 'string' } } } },
  },
  'list-write-keys': {
    summary: "The tenant's write keys, revoked ones included; never their secrets",
    scope: 'admin',
    success: { status: 200, description: 'Newest first', schema: { type: 'object', properties: { keys: { type: 'array', items: WRITE_KEY } } } },
  },
  'revoke-write-key': {
    summary: 'Revoke a write key of the tenant; it stops working within the authorizer cache time (60 s)',
    scope: 'admin',
    path: KeyIdSchema,
    success: { status: 200, description: 'The revoked key', schema: WRITE_KEY },
  },
  'get-openapi': { summary: 'This document', success: { status: 200, description: 'OpenAPI 3.1', schema: { type: 'object' } } },
};

function parametersOf(schema: z.ZodType | undefined, location: 'query' | 'path'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema);
  const required = new Set((object['required'] as string[] | undefined) ?? []);
  return Object.entries(object['properties'] as Record<string, JsonSchema>).map(([name, property]) => ({ name, in: location, required: required.has(name), schema: property }));
}

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

/** Refusals that pass with time (API Gateway's throttling, the tenant's rates, the queue) say when to retry. */
const retryLaterResponse = (description: string) => ({
  ...problemResponse(description),
  headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } } },
});

/** Who can answer 429: every route has the stage's throttling, routes with a caller the tenant's rates too. */
function rateLimitedDescription(doc: RouteDoc): string {
  if (!doc.scope) return "Over the API stage's throttling (all tenants together)";
  const rates = doc.queues ? 'request or event rate' : 'request rate';
  return `Over the tenant's ${rates} (a write key has its own), or the API stage's throttling; nothing of the request was applied`;
}

/** The OpenAPI 3.1 document of every route in `lambdas/routes.ts`. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const doc = ROUTE_DOCS[route.function];
    const pathParameters = doc.path
      ? parametersOf(doc.path, 'path')
      : [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }));
    const parameters = [...pathParameters, ...parametersOf(doc.query, 'query')];
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: {
        operationId: route.function,
        summary: doc.summary,
        ...(doc.scope ? { security: [{ bearer: [doc.scope] }], description: `Needs the scope \`${doc.scope}\`.` } : { security: [] }),
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body) } } } } : {}),
        responses: {
          [doc.success.status]: { description: doc.success.description, content: { 'application/json': { schema: doc.success.schema } } },
          ...(doc.body || doc.query || parameters.length > 0 ? { 400: problemResponse('Invalid input: every bad field is listed in `errors`') } : {}),
          ...(doc.scope ? { 401: problemResponse('No or invalid bearer token'), 403: problemResponse(`The token lacks ${doc.scope}`) } : {}),
          ...(pathParameters.length > 0 ? { 404: problemResponse("Not found in the caller's tenant") } : {}),
          ...(doc.body ? { 413: problemResponse(doc.tooLarge ?? `The body is over ${MAX_BODY_BYTES} bytes`) } : {}),
          429: retryLaterResponse(rateLimitedDescription(doc)),
          500: problemResponse('Internal error; quote the request id in `detail`'),
          ...(doc.queues ? { 503: retryLaterResponse('The queue refused the events: nothing of the request was accepted; retry after Retry-After') } : {}),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Event tracker', version: '1', description: 'Track, query and aggregate events per tenant. The tenant always comes from the token.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A JWT (claims: tenant_id or custom:tenant_id, sub, scope or cognito:groups), or a write key `wk_...` (events:write only)',
        },
      },
      schemas: { Problem: PROBLEM },
    },
    paths,
  };
}
