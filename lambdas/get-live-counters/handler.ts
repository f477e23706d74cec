import { routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { readLiveCounters } from '../shared/use-cases/read-live-counters.js';
import { awsCallerPorts, awsLiveCounterSettings, awsLiveCounterStore } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** Per-minute counts by type and category of the last `?window`, from DynamoDB. */
export function createHandler(ports: Pick<Ports, 'liveCounters' | 'liveCounterSettings' | 'limiter' | 'http'>) {
  return routeHandler(ROUTES['get-live-counters'], ports, ({ caller, event }) =>
    readLiveCounters(ports.liveCounters, caller.tenantId, event.queryStringParameters ?? {}, ports.liveCounterSettings),
  );
}

export const handler = lazyHandler(async () => createHandler({ liveCounters: awsLiveCounterStore(), liveCounterSettings: awsLiveCounterSettings(), ...awsCallerPorts() }));
