import { z } from 'zod';
import { ProblemSchema, type OpenApiDocument } from './domain/answer-schemas.js';
import { MAX_BODY_BYTES } from './domain/limits.js';
import { routePaths, type Routes, type RouteSpec } from './adapters/http/route-spec.js';

type JsonSchema = Record<string, unknown>;

/**
 * A schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), from the zod schema the code uses:
 * requests as they are sent (`io: 'input'`), answers as they come out. Free-form objects
 * (properties, property filters) are `z.custom` checks, which JSON Schema renders as open objects.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === 'custom') Object.assign(ctx.jsonSchema, { type: 'object', additionalProperties: true });
    },
  });
  return rest;
}

function parametersOf(schema: z.ZodType | undefined, location: 'query' | 'path'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input');
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
function rateLimitedDescription(route: RouteSpec): string {
  if (!route.scope && !route.credential) return "Over the API stage's throttling (all tenants together)";
  const rates = route.needs?.queue ? 'request or event rate' : 'request rate';
  return `Over the tenant's ${rates} (a write key has its own), or the API stage's throttling; nothing of the request was applied`;
}

/** Who may call: a scope of the bearer token, a Segment write key, or anyone. */
function securityOf(route: RouteSpec): JsonSchema {
  if (route.scope) return { security: [{ bearer: [route.scope] }], description: `Needs the scope \`${route.scope}\`.` };
  if (route.credential) return { security: [{ segmentWriteKey: [] }], description: 'A write key as HTTP Basic (the key as user name, no password) or as `writeKey` in the body, as Segment takes it. Bodies may be `text/plain` or gzip.' };
  return { security: [] };
}

function operation(fn: string, route: RouteSpec): JsonSchema {
  const { body, query, path } = route.request ?? {};
  const pathParameters = parametersOf(path, 'path');
  const parameters = [...pathParameters, ...parametersOf(query, 'query')];
  const answerHeaders = Object.entries(route.answer.headers ?? {}).map(([name, value]) => [name, { schema: { type: 'string', const: value } }]);
  const tooLarge = body ? (route.tooLarge ?? { status: 413, description: `The body is over ${MAX_BODY_BYTES} bytes` }) : undefined;
  const unavailable = [
    ...(route.needs?.queue ? ['The queue refused the events'] : []),
    // A write key the table cannot answer for is no verdict on the key.
    ...(route.credential || route.needs?.writeKeys === 'read' ? ['The write keys could not be checked'] : []),
  ];
  return {
    operationId: fn,
    summary: route.summary,
    ...securityOf(route),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: { required: true, content: Object.fromEntries((route.request?.bodyTypes ?? ['application/json']).map((type) => [type, { schema: jsonSchema(body, 'input') }])) } } : {}),
    responses: {
      [route.answer.status]: {
        description: route.answer.description,
        ...(answerHeaders.length > 0 ? { headers: Object.fromEntries(answerHeaders) } : {}),
        content: { [route.answer.contentType ?? 'application/json']: { schema: jsonSchema(route.answer.schema, 'output') } },
      },
      ...(route.request ? { 400: problemResponse(`Invalid input: every bad field is listed in \`errors\`${tooLarge?.status === 400 ? `; or ${tooLarge.description}` : ''}`) } : {}),
      ...(route.scope ? { 401: problemResponse('No or invalid bearer token'), 403: problemResponse(`The token lacks ${route.scope}`) } : {}),
      ...(route.credential ? { 401: problemResponse('No write key, or one unknown or revoked') } : {}),
      ...(pathParameters.length > 0 ? { 404: problemResponse("Not found in the caller's tenant") } : {}),
      ...(tooLarge?.status === 413 ? { 413: problemResponse(tooLarge.description) } : {}),
      429: retryLaterResponse(rateLimitedDescription(route)),
      500: problemResponse('Internal error; quote the request id in `detail`'),
      ...(unavailable.length > 0 ? { 503: retryLaterResponse(`${unavailable.join('; or ')}: nothing of the request was done; retry after Retry-After`) } : {}),
    },
  };
}

/** The OpenAPI 3.1 document of a route table (`lambdas/routes.ts` in the deployed API). */
export function openApiDocument(routes: Routes): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [fn, route] of Object.entries(routes)) {
    for (const path of routePaths(route)) {
      // operationIds are unique: a route's other paths are named after their last segment.
      const id = path === route.path ? fn : `${fn}-${path.split('/').pop() ?? ''}`;
      paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(id, route) };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Event tracker',
      version: '1',
      description: 'Track, query and aggregate events per tenant. The tenant always comes from the token.',
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-Proprietary' },
    },
    // Relative: the document is served by the API it describes, on whatever host and stage.
    servers: [{ url: '/', description: 'The API that serves this document' }],
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A JWT (claims: tenant_id or custom:tenant_id, sub, scope or cognito:groups), or a write key `wk_...` (events:write only)',
        },
        segmentWriteKey: { type: 'http', scheme: 'basic', description: 'A write key `wk_...` as the user name, no password: `base64(writeKey + ":")`' },
      },
      schemas: { Problem: jsonSchema(ProblemSchema, 'output') },
    },
    paths,
  };
}
