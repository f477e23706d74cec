import type { SegmentReceipt } from '../domain/answer-schemas.js';
import { NotFoundError, RateLimitedError, UnauthorizedError, ValidationError, WriteKeysUnavailableError } from '../domain/errors.js';
import { isPlainObject } from '../domain/event-schemas.js';
import { maskJson } from '../domain/pii-masking.js';
import { prepareValidEvent } from '../domain/prepare-event.js';
import { rateLimitHolder, retryAfterSeconds } from '../domain/rate-limit.js';
import {
  basicWriteKey,
  bodyWriteKey,
  mapSegmentMessage,
  SegmentBatchSchema,
  segmentIssue,
  segmentSettings,
  type SegmentApiBase,
  type SegmentCall,
  type SegmentDefaults,
} from '../domain/segment-messages.js';
import { parseInput } from '../domain/zod-issues.js';
import type { Caller } from '../domain/caller.js';
import type { SegmentSettings } from '../domain/answer-schemas.js';
import type { WriteKeyStore } from '../ports/write-key-store.js';
import { authenticateWriteKey } from './manage-write-keys.js';
import { enqueueItems, refuseIfNothingQueued, type PrepareItem, type TrackDeps } from './track-events.js';

export interface SegmentTrackDeps extends TrackDeps {
  writeKeys: WriteKeyStore;
}

/** One request to a Segment route: which call its path names, and the Authorization header. */
export interface SegmentTrackRequest {
  call: SegmentCall | 'batch';
  authorization: string | undefined;
  requestId: string;
  receivedAt: Date;
}

/**
 * Maps a Segment message (which checks and measures it), then prepares it as our own routes do
 * from their type rules on, then adds what only Segment has, masked but for the ids kept exactly.
 */
function prepareSegmentMessage(tenantId: string, defaults: SegmentDefaults): PrepareItem {
  return (raw, context) => {
    const outcome = mapSegmentMessage(raw, tenantId, defaults);
    if (!outcome.ok) return outcome;
    const { event, sentAt, extras, issuePaths } = outcome.mapped;
    const prepared = prepareValidEvent(event, sentAt === context.sentAt ? context : { ...context, sentAt });
    if (!prepared.ok) return { ...prepared, issues: prepared.issues.map((issue) => segmentIssue(issue, issuePaths)) };
    // The event's context and metadata are its own fresh objects: added to, not copied. A message
    // whose context held only what ours took (ip, userAgent) keeps no empty `context.segment`.
    if (Object.keys(extras.context).length > 0) prepared.event.context['segment'] = maskJson(extras.context, context.piiPolicy);
    prepared.event.metadata['segment'] = Object.assign(extras.ids, maskJson(extras.metadata, context.piiPolicy));
    return prepared;
  };
}

/** Segment's write key is an HTTP Basic user name; the realm names which credential. */
export const SEGMENT_CHALLENGE = 'Basic realm="write key", charset="UTF-8"';

/** The caller of a live write key, or none; a table that does not answer is no verdict on the key: a 503 the SDKs retry, not a 401 or 404 they drop. */
function checkedWriteKey(writeKeys: WriteKeyStore, key: string): Promise<Caller | undefined> {
  return authenticateWriteKey(writeKeys, key).catch((error: unknown) => {
    throw new WriteKeysUnavailableError('The write key could not be checked; retry after Retry-After.', { cause: error });
  });
}

/** The caller of a write key, or the 401 the SDKs do not retry. */
async function segmentCaller(writeKeys: WriteKeyStore, key: string | undefined): Promise<Caller> {
  const caller = key ? await checkedWriteKey(writeKeys, key) : undefined;
  if (!caller) throw new UnauthorizedError('No valid write key: send it as HTTP Basic (the key as user name, no password) or as writeKey in the body.', SEGMENT_CHALLENGE);
  return caller;
}

/**
 * POST /v1/batch, /v1/track, ... (and the one-letter forms): Segment's API over our ingest.
 * A batch with bad messages is a 200 that reports them by index, since the SDKs never retry a
 * 400 and would drop the good ones with it; only a body that is no JSON, too big or has no
 * `batch` array is a 400.
 */
export async function trackSegment(deps: SegmentTrackDeps, request: SegmentTrackRequest, readBody: () => unknown): Promise<SegmentReceipt> {
  // 1. Who: the write key, then its request rate (the event rate is taken with the items). The
  //    key of HTTP Basic (what the SDKs send) is checked before the body is parsed: a caller
  //    without a live key costs no parse, and no parsed body of 500 KB waits on the key's lookup.
  //    Only a request without Basic is read first, for the body's `writeKey`.
  const headerKey = basicWriteKey(request.authorization);
  const unsigned = headerKey === undefined ? readBody() : undefined;
  const caller = await segmentCaller(deps.writeKeys, headerKey ?? bodyWriteKey(unsigned));
  const decision = await deps.limiter.take(caller.tenantId, rateLimitHolder(caller.subject), 'requests', 1);
  if (!decision.allowed) throw new RateLimitedError(retryAfterSeconds(decision), 'More requests per second than this write key may send; retry after the Retry-After delay.');
  const body = headerKey === undefined ? unsigned : readBody();

  // 2. The messages: a batch's items with its context and integrations, or the one call.
  let items: unknown[];
  let defaults: SegmentDefaults = {};
  if (request.call === 'batch') {
    const envelope = parseInput(SegmentBatchSchema, body);
    items = envelope.batch;
    defaults = { context: envelope.context, integrations: envelope.integrations, sentAt: envelope.sentAt };
  } else {
    if (!isPlainObject(body)) throw new ValidationError([{ path: '', message: 'expected a JSON object, one Segment message' }]);
    // The path names the call, as Segment's API reads it.
    items = [{ ...body, type: request.call }];
  }

  // 3. Map, validate, mask and queue each; a retry's messageIds give the same event ids.
  const enqueued = await enqueueItems(deps, { ...caller, requestId: request.requestId, receivedAt: request.receivedAt }, items, { sentAt: defaults.sentAt }, prepareSegmentMessage(caller.tenantId, defaults));
  refuseIfNothingQueued(enqueued);
  return { success: true, total: items.length, successful: enqueued.accepted.map((item) => item.eventId), failed: enqueued.failed };
}

/**
 * GET /v1/projects/{writeKey}/settings: the document analytics-next loads from its `cdnURL`,
 * pointing it at this deployment. A key that is not live gets a 404, as Segment's CDN answers.
 */
export async function getSegmentSettings(writeKeys: WriteKeyStore, writeKey: string, base: SegmentApiBase): Promise<SegmentSettings> {
  if (!(await checkedWriteKey(writeKeys, writeKey))) throw new NotFoundError('No live write key by that name.');
  return segmentSettings(writeKey, base);
}
