import { readJsonBody, routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { createWriteKey } from '../shared/use-cases/manage-write-keys.js';
import { awsCallerPorts, awsWriteKeyStore } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** A new write key, shown in this answer only. */
export function createHandler(ports: Pick<Ports, 'writeKeys' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['create-write-key'], ports, ({ caller, event }) => createWriteKey(ports.writeKeys, caller, readJsonBody(event)));
}

export const handler = lazyHandler(async () => createHandler({ writeKeys: awsWriteKeyStore(), ...awsCallerPorts() }));
