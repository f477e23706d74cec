import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { retentionStatus } from '../shared/use-cases/administer-events.js';
import { awsCallerPorts, awsEventAdmin, awsRetentionSettings } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** The retention settings and the job's runs as the caller's tenant sees them. */
export function createHandler(ports: Pick<Ports, 'admin' | 'retention' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['get-retention-status'], ports, ({ caller }) => retentionStatus(ports.admin, caller, ports.retention));
}

export const handler = lazyHandler(async () => createHandler({ admin: await awsEventAdmin(), retention: awsRetentionSettings(), ...awsCallerPorts() }));
