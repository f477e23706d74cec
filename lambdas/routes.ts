/**
 * The HTTP routes and the function that serves each. The CDK API construct and the local
 * runtime both read this list, so the two cannot drift.
 */
export const HTTP_FUNCTIONS = ['track-event', 'track-batch', 'get-event', 'query-events', 'aggregate-events', 'list-event-types', 'purge-events', 'list-audit', 'create-write-key', 'list-write-keys', 'revoke-write-key', 'get-openapi', 'health'] as const;
export type HttpFunction = (typeof HTTP_FUNCTIONS)[number];

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Resource path with `{param}` placeholders, as API Gateway writes it. */
  path: string;
  function: HttpFunction;
  /** Whether the authorizer runs; scopes are checked by the handler. */
  authorized: boolean;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/v1/health', function: 'health', authorized: false },
  { method: 'POST', path: '/v1/events', function: 'track-event', authorized: true },
  { method: 'POST', path: '/v1/events/batch', function: 'track-batch', authorized: true },
  { method: 'GET', path: '/v1/events/{eventId}', function: 'get-event', authorized: true },
  { method: 'POST', path: '/v1/events/query', function: 'query-events', authorized: true },
  { method: 'POST', path: '/v1/analytics/aggregate', function: 'aggregate-events', authorized: true },
  { method: 'GET', path: '/v1/analytics/event-types', function: 'list-event-types', authorized: true },
  { method: 'DELETE', path: '/v1/events', function: 'purge-events', authorized: true },
  { method: 'GET', path: '/v1/audit', function: 'list-audit', authorized: true },
  { method: 'POST', path: '/v1/keys', function: 'create-write-key', authorized: true },
  { method: 'GET', path: '/v1/keys', function: 'list-write-keys', authorized: true },
  { method: 'DELETE', path: '/v1/keys/{keyId}', function: 'revoke-write-key', authorized: true },
  { method: 'GET', path: '/v1/openapi.json', function: 'get-openapi', authorized: false },
];
