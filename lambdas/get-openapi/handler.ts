import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { openApiDocument } from '../shared/openapi.js';
import { awsHttpSettings } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** The contract, generated from the route table; built once, as it depends on nothing but the code. */
export function createHandler(ports: Pick<Ports, 'http'>, routes = ROUTES) {
  const document = openApiDocument(routes);
  return routeHandler(ROUTES['get-openapi'], ports, async () => document);
}

export const handler = lazyHandler(async () => createHandler({ http: awsHttpSettings() }));
