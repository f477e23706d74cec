import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { revokeWriteKey } from '../shared/use-cases/manage-write-keys.js';
import { awsCallerPorts, awsWriteKeyStore } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** The key stops working; revoking twice answers the first revocation. */
export function createHandler(ports: Pick<Ports, 'writeKeys' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['revoke-write-key'], ports, ({ caller, event }) => revokeWriteKey(ports.writeKeys, caller, event.pathParameters ?? {}));
}

export const handler = lazyHandler(async () => createHandler({ writeKeys: awsWriteKeyStore(), ...awsCallerPorts() }));
