import { authorizedCaller, httpHandler, jsonResponse, readJsonBody } from '../shared/adapters/http/api-gateway.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { emitCounts, METRIC } from '../shared/metrics.js';
import { trackBatch, type TrackDeps } from '../shared/use-cases/track-events.js';
import { awsTrackDeps } from '../shared/wiring/aws.js';

/** POST /v1/events/batch: 200 with a receipt for every index. */
export function createTrackBatchHandler(deps: TrackDeps) {
  return httpHandler(async (event, context) => {
    const caller = authorizedCaller(event, 'events:write');
    const body = readJsonBody(event);
    const receipt = await trackBatch(
      deps,
      { tenantId: caller.tenantId, actor: caller.subject, requestId: context.awsRequestId, receivedAt: new Date() },
      body,
    );
    emitCounts({ [METRIC.eventsAccepted]: receipt.successful.length, [METRIC.eventsRejected]: receipt.failed.length });
    return jsonResponse(200, receipt);
  }, { limiter: deps.limiter });
}

export const handler = lazyHandler(async () => createTrackBatchHandler(await awsTrackDeps()));
