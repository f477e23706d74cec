import { authorizedCaller, httpHandler, jsonResponse, readJsonBody } from '../shared/adapters/http/api-gateway.js';
import { PayloadTooLargeError, QueueUnavailableError, ValidationError } from '../shared/domain/errors.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { emitCounts, METRIC } from '../shared/metrics.js';
import { trackEvent, type TrackDeps } from '../shared/use-cases/track-events.js';
import { awsTrackDeps } from '../shared/wiring/aws.js';

/** What the batch route reports as a failed index: invalid, too large, or not queued. */
const refusesTheEvent = (error: unknown): boolean =>
  error instanceof ValidationError || error instanceof PayloadTooLargeError || error instanceof QueueUnavailableError;

/** POST /v1/events: 202 once the event is queued; it is stored by the writer. */
export function createTrackEventHandler(deps: TrackDeps) {
  return httpHandler(async (event, context) => {
    const caller = authorizedCaller(event, 'events:write');
    const body = readJsonBody(event);
    const receipt = await trackEvent(
      deps,
      { tenantId: caller.tenantId, actor: caller.subject, requestId: context.awsRequestId, receivedAt: new Date() },
      body,
    ).catch((error: unknown) => {
      if (refusesTheEvent(error)) emitCounts({ [METRIC.eventsRejected]: 1 });
      throw error;
    });
    emitCounts({ [METRIC.eventsAccepted]: 1 });
    return jsonResponse(202, receipt);
  }, { limiter: deps.limiter });
}

export const handler = lazyHandler(async () => createTrackEventHandler(await awsTrackDeps()));
