import { readJsonBody, routeHandler } from '../shared/adapters/http/api-gateway.js';
import { PayloadTooLargeError, QueueUnavailableError, ValidationError } from '../shared/domain/errors.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { emitCounts, METRIC } from '../shared/metrics.js';
import { trackEvent, type TrackDeps } from '../shared/use-cases/track-events.js';
import { awsHttpSettings, awsTrackDeps } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** What the batch route reports as a failed index: invalid, too large, or not queued. */
const refusesTheEvent = (error: unknown): boolean =>
  error instanceof ValidationError || error instanceof PayloadTooLargeError || error instanceof QueueUnavailableError;

/** 202 once the event is queued; it is stored by the writer. */
export function createHandler(ports: TrackDeps & Pick<Ports, 'http'>) {
  return routeHandler(ROUTES['track-event'], ports, async ({ caller, event, context }) => {
    const body = readJsonBody(event);
    const receipt = await trackEvent(ports, { ...caller, requestId: context.awsRequestId, receivedAt: new Date() }, body).catch((error: unknown) => {
      if (refusesTheEvent(error)) emitCounts({ [METRIC.eventsRejected]: 1 });
      throw error;
    });
    emitCounts({ [METRIC.eventsAccepted]: 1 });
    return receipt;
  });
}

export const handler = lazyHandler(async () => createHandler({ ...(await awsTrackDeps()), http: awsHttpSettings() }));
