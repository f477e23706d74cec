import { readJsonBody, routeHandler } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { emitCounts, METRIC } from '../shared/metrics.js';
import { trackBatch, type TrackDeps } from '../shared/use-cases/track-events.js';
import { awsHttpSettings, awsTrackDeps } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** A receipt for every index. */
export function createHandler(ports: TrackDeps & Pick<Ports, 'http'>) {
  return routeHandler(ROUTES['track-batch'], ports, async ({ caller, event, context }) => {
    const body = readJsonBody(event);
    const receipt = await trackBatch(ports, { ...caller, requestId: context.awsRequestId, receivedAt: new Date() }, body);
    emitCounts({ [METRIC.eventsAccepted]: receipt.successful.length, [METRIC.eventsRejected]: receipt.failed.length });
    return receipt;
  });
}

export const handler = lazyHandler(async () => createHandler({ ...(await awsTrackDeps()), http: awsHttpSettings() }));
