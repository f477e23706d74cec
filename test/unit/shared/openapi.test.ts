import { describe, expect, it } from 'vitest';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { ROUTES } from '../../../lambdas/routes.js';
import type { RouteSpec } from '../../../lambdas/shared/adapters/http/route-spec.js';
import { openApiDocument } from '../../../lambdas/shared/openapi.js';

type Operation = {
  parameters?: Array<{ name: string; schema: { description?: string } }>;
  requestBody?: { content: Record<string, { schema: { properties: Record<string, { description?: string }> } }> };
  responses: Record<string, { description: string; content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
};

const document = openApiDocument(ROUTES) as unknown as { paths: Record<string, Record<string, Operation>> };
const operation = (method: string, path: string): Operation => {
  const found = document.paths[path]?.[method.toLowerCase()];
  if (!found) throw new Error(`no ${method} ${path} in the document`);
  return found;
};
const API_ROUTES: RouteSpec[] = Object.values(ROUTES);
const INGEST = [
  ['POST', '/v1/events'],
  ['POST', '/v1/events/batch'],
  ['POST', '/v1/batch'],
] as const;

describe('the OpenAPI document', () => {
  it.each(INGEST)('lists 503 problem+json with Retry-After for %s %s, whose queue can refuse the events', (method, path) => {
    const unavailable = operation(method, path).responses['503'];

    expect(unavailable?.content).toHaveProperty(['application/problem+json']);
    expect(unavailable?.headers).toHaveProperty('Retry-After');
  });

  it('lists 503 for no route that neither queues nor checks a write key', () => {
    const others = API_ROUTES.filter((route) => !INGEST.some(([method, path]) => route.method === method && route.path === path) && route.path !== '/v1/projects/{writeKey}/settings');

    for (const route of others) expect(operation(route.method, route.path).responses, `${route.method} ${route.path}`).not.toHaveProperty('503');
  });

  it('lists 429 with Retry-After on every route, since API Gateway throttles them all', () => {
    for (const route of API_ROUTES) expect(operation(route.method, route.path).responses['429']?.headers, `${route.method} ${route.path}`).toHaveProperty('Retry-After');
  });

  it('names the event rate among the 429 causes of the ingest routes only', () => {
    for (const [method, path] of INGEST) expect(operation(method, path).responses['429']?.description).toContain('event rate');
    expect(operation('POST', '/v1/events/query').responses['429']?.description).not.toContain('event rate');
  });

  it('lists 413 on the routes that read a body, with the event limit where one applies, and Segment\'s oversize as the 400 its SDKs drop', () => {
    for (const route of API_ROUTES) {
      const responses = operation(route.method, route.path).responses;
      if (route.method === 'POST' && route.tooLarge?.status !== 400) expect(responses, `${route.method} ${route.path}`).toHaveProperty('413');
      else expect(responses, `${route.method} ${route.path}`).not.toHaveProperty('413');
    }
    expect(operation('POST', '/v1/events').responses['413']?.description).toContain('32768 bytes');
    for (const path of ['/v1/batch', ...(ROUTES['track-segment'].alsoAt ?? [])]) {
      expect(operation('POST', path).responses['400']?.description).toContain('512000 bytes');
      expect(Object.keys(operation('POST', path).requestBody?.content ?? {})).toEqual(['application/json', 'text/plain']);
      expect(operation('POST', path).responses['503']?.description).toContain('write keys could not be checked');
    }
    expect(operation('GET', '/v1/projects/{writeKey}/settings').responses['503']?.description).toContain('write keys could not be checked');
  });

  it('says that endTime is inclusive wherever a time range is asked for', () => {
    const bodyEndTime = (path: string) => operation('POST', path).requestBody?.content['application/json']?.schema.properties['endTime']?.description;
    const eventTypesEndTime = operation('GET', '/v1/analytics/event-types').parameters?.find((parameter) => parameter.name === 'endTime')?.schema.description;

    for (const description of [bodyEndTime('/v1/events/query'), bodyEndTime('/v1/analytics/aggregate'), eventTypesEndTime]) expect(description).toMatch(/inclusive/);
  });

  it("lints clean under Redocly's recommended rules, warnings included", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: 'openapi.json', config });

    expect(problems.map((problem) => `${problem.severity} ${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer}`)).toEqual([]);
  });
});
