import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { listWriteKeys } from '../shared/use-cases/manage-write-keys.js';
import { awsCallerPorts, awsWriteKeyStore } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** The tenant's write keys, without secrets. */
export function createHandler(ports: Pick<Ports, 'writeKeys' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['list-write-keys'], ports, ({ caller }) => listWriteKeys(ports.writeKeys, caller.tenantId));
}

export const handler = lazyHandler(async () => createHandler({ writeKeys: awsWriteKeyStore(), ...awsCallerPorts() }));
