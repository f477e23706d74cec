import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { purgeEvents } from '../shared/use-cases/administer-events.js';
import { awsCallerPorts, awsEventAdmin } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** `?olderThan=ISO`: the tenant's older events go, in batches, audited. */
export function createHandler(ports: Pick<Ports, 'admin' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['purge-events'], ports, ({ caller, event }) => purgeEvents(ports.admin, caller, event.queryStringParameters ?? {}));
}

export const handler = lazyHandler(async () => createHandler({ admin: await awsEventAdmin(), ...awsCallerPorts() }));
