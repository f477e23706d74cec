import { readJsonBody, routeHandler } from '../shared/adapters/http/api-gateway.js';
import { headerValue } from '../shared/adapters/http/headers.js';
import { ValidationError } from '../shared/domain/errors.js';
import { SEGMENT_MAX_BATCH_BYTES, SEGMENT_MAX_CALL_BYTES } from '../shared/domain/limits.js';
import { SEGMENT_PATHS } from '../shared/domain/segment-messages.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { emitCounts, METRIC } from '../shared/metrics.js';
import { trackSegment, type SegmentTrackDeps } from '../shared/use-cases/track-segment.js';
import { awsHttpSettings, awsTrackDeps, awsWriteKeyStore } from '../shared/wiring/aws.js';
import type { Ports } from '../shared/wiring/ports.js';
import { ROUTES } from '../routes.js';

/** Segment's SDKs never retry a 400, and drop the batch: oversize is a 400 naming the limit, not a 413. */
const overSegmentLimit = (bytes: number, limit: number): ValidationError =>
  new ValidationError([{ path: '', message: `the body is over ${limit} bytes (${bytes >= limit ? 'at least ' : ''}${bytes}), Segment's limit for this call` }], `The body is over Segment's limit of ${limit} bytes.`);

/** Every Segment path: the call comes from the path, the write key from Basic auth or the body. */
export function createHandler(ports: SegmentTrackDeps & Pick<Ports, 'http'>) {
  return routeHandler(ROUTES['track-segment'], ports, async ({ event, context }) => {
    const call = SEGMENT_PATHS[event.resource] ?? 'batch';
    const readBody = () => readJsonBody(event, call === 'batch' ? SEGMENT_MAX_BATCH_BYTES : SEGMENT_MAX_CALL_BYTES, overSegmentLimit);
    const receipt = await trackSegment(ports, { call, authorization: headerValue(event, 'authorization'), requestId: context.awsRequestId, receivedAt: new Date() }, readBody);
    emitCounts({ [METRIC.eventsAccepted]: receipt.successful.length, [METRIC.eventsRejected]: receipt.failed.length });
    return receipt;
  });
}

export const handler = lazyHandler(async () => createHandler({ ...(await awsTrackDeps()), writeKeys: awsWriteKeyStore(), http: awsHttpSettings() }));
