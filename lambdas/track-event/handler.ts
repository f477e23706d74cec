import { authorizedCaller, httpHandler, jsonResponse, readJsonBody } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { emitCounts, METRIC } from '../shared/metrics.js';
import { trackEvent, type TrackDeps } from '../shared/use-cases/track-events.js';
import { awsTrackDeps } from '../shared/wiring/aws.js';

/** POST /v1/events: 202 once the event is queued; it is stored by the writer. */
export function createTrackEventHandler(deps: TrackDeps) {
  return httpHandler(async (event, context) => {
    const caller = authorizedCaller(event, 'events:write');
    const body = readJsonBody(event);
    const receipt = await trackEvent(
      deps,
      { tenantId: caller.tenantId, actor: caller.subject, requestId: context.awsRequestId, receivedAt: new Date() },
      body,
    );
    emitCounts({ [METRIC.eventsAccepted]: 1 });
    return jsonResponse(202, receipt);
  }, { limiter: deps.limiter });
}

export const handler = lazyHandler(async () => createTrackEventHandler(await awsTrackDeps()));
