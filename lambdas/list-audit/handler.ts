import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { listAudit } from '../shared/use-cases/administer-events.js';
import { awsCallerPorts, awsEventAdmin } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** `?limit&before&action`: the tenant's audit log, newest first. */
export function createHandler(ports: Pick<Ports, 'admin' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['list-audit'], ports, ({ caller, event }) => listAudit(ports.admin, caller.tenantId, event.queryStringParameters ?? {}));
}

export const handler = lazyHandler(async () => createHandler({ admin: await awsEventAdmin(), ...awsCallerPorts() }));
