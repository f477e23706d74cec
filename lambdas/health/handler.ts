import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { awsHttpSettings } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** No credentials, no dependencies: says the API answers. */
export function createHandler(ports: Pick<Ports, 'http'>) {
  return routeHandler(ROUTES.health, ports, async () => ({ status: 'ok' as const }));
}

export const handler = lazyHandler(async () => createHandler({ http: awsHttpSettings() }));
