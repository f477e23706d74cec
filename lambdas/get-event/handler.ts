import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { parseInput } from '../shared/domain/zod-issues.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { getEvent } from '../shared/use-cases/get-event.js';
import { awsCallerPorts, awsEventStore } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

const route = ROUTES['get-event'];

/** One event, of the caller's tenant only. */
export function createHandler(ports: Pick<Ports, 'store' | 'limiter' | 'http'>) {
  return routeHandler(route, ports, async ({ caller, event }) => {
    const { eventId } = parseInput(route.request.path, event.pathParameters ?? {});
    return getEvent(ports.store, caller.tenantId, eventId);
  });
}

export const handler = lazyHandler(async () => createHandler({ store: await awsEventStore(), ...awsCallerPorts() }));
