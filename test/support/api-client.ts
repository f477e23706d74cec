import { expect } from 'vitest';
import type { z } from 'zod';
import { ROUTES } from '../../lambdas/routes.js';
import { ProblemSchema } from '../../lambdas/shared/domain/answer-schemas.js';
import { routePaths, type Routes, type RouteSpec } from '../../lambdas/shared/adapters/http/route-spec.js';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  contentType: string | null;
  /** Parsed JSON, already checked against the route's answer schema (or the problem schema). */
  body: any;
}

export interface CallOptions {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, instead of `body`. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

/** The route a request reaches, matched the way API Gateway matches resource paths. */
function routeOf(routes: Routes, method: string, path: string): RouteSpec | undefined {
  const segments = new URL(path, 'http://api').pathname.split('/');
  return Object.values(routes).find((route) =>
    routePaths(route).some((resource) => {
      const expected = resource.split('/');
      return route.method === method && expected.length === segments.length && expected.every((segment, i) => segment.startsWith('{') || segment === segments[i]);
    }),
  );
}

function expectToFit(schema: z.ZodType, body: unknown, what: string): void {
  const parsed = schema.safeParse(body);
  expect(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`), `${what} does not fit its schema`).toEqual([]);
}

/**
 * Calls the API and checks the answer against the contract before any test assertion: a
 * success against its route's answer schema, any refusal against the problem+json schema.
 */
export async function callApi(baseUrl: string, method: string, path: string, options: CallOptions = {}, routes: Routes = ROUTES): Promise<ApiAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  const body: unknown = text ? JSON.parse(text) : undefined;
  const contentType = response.headers.get('content-type');
  const what = `${method} ${path} (${response.status})`;
  if (response.ok) {
    const route = routeOf(routes, method, path);
    expect(route, `${what} answered by no route of the table`).toBeDefined();
    expect(response.status, `${what}: the status of the route table`).toBe(route?.answer.status);
    expect(contentType).toBe('application/json');
    if (route) expectToFit(route.answer.schema, body, what);
  } else {
    expect(contentType, what).toBe('application/problem+json');
    expectToFit(ProblemSchema, body, what);
  }
  return { status: response.status, headers: response.headers, contentType, body };
}
