import { randomUUID } from 'node:crypto';
import type { BatchReceipt } from '../domain/answer-schemas.js';
import type { Actor } from '../domain/caller.js';
import { BatchEnvelopeSchema, type TrackedEvent } from '../domain/event-schemas.js';
import { PayloadTooLargeError, QueueUnavailableError, RateLimitedError, ValidationError } from '../domain/errors.js';
import { piiPolicyFor, type PiiSettings } from '../domain/pii-masking.js';
import { prepareEvent, type PrepareContext, type PreparedEvent } from '../domain/prepare-event.js';
import { packMessages } from '../domain/queue-messages.js';
import { parseInput } from '../domain/zod-issues.js';
import { rateLimitHolder, retryAfterSeconds } from '../domain/rate-limit.js';
import type { EventQueue } from '../ports/event-queue.js';
import type { RateLimiter } from '../ports/rate-limiter.js';

export interface TrackSettings {
  /** Which PII is masked and how, for the deployment and for tenants with their own rule. */
  pii: PiiSettings;
  eventRetentionDays: number;
  sqsMaxMessageBytes: number;
}

export interface TrackDeps {
  queue: EventQueue;
  limiter: RateLimiter;
  ingest: TrackSettings;
  newEventId?: () => string;
}

/** Who sent the request and when it arrived; the tenant always comes from the credential. */
export interface TrackRequest extends Actor {
  requestId: string;
  receivedAt: Date;
}

const NOT_QUEUED = 'not queued, retry later';

/** Turns one raw item into the event to queue; our routes' `prepareEvent`, or a mapping in front of it. */
export type PrepareItem = (raw: unknown, context: PrepareContext) => PreparedEvent;

interface Enqueued {
  accepted: Array<{ index: number; eventId: string }>;
  failed: BatchReceipt['failed'];
}

/**
 * Prepares the items, queues the valid ones in as few messages as fit, and reports each index.
 * The tenant's event rate is taken first, for every item sent: a refused request costs no
 * validation, and nothing of it is queued.
 */
export async function enqueueItems(
  deps: TrackDeps,
  request: TrackRequest,
  items: unknown[],
  batch?: { sentAt?: string },
  prepare: PrepareItem = prepareEvent,
): Promise<Enqueued & { tooLarge: boolean }> {
  // 1. Within the tenant's event rate?
  const decision = await deps.limiter.take(request.tenantId, rateLimitHolder(request.subject), 'events', items.length);
  if (!decision.allowed) {
    throw new RateLimitedError(retryAfterSeconds(decision), `More events per second than this tenant (or this write key) may send; these ${items.length} were not accepted.`);
  }

  // 2. Validate, apply type rules, mask: per item, so one bad item spoils nothing else.
  const context: PrepareContext = {
    receivedAt: request.receivedAt,
    sentAt: batch?.sentAt,
    piiPolicy: piiPolicyFor(deps.ingest.pii, request.tenantId),
    retentionDays: deps.ingest.eventRetentionDays,
    newEventId: deps.newEventId ?? randomUUID,
  };
  const prepared: Array<{ index: number; event: TrackedEvent }> = [];
  const failed: BatchReceipt['failed'] = [];
  let tooLarge = false;
  items.forEach((item, index) => {
    const outcome = prepare(item, context);
    if (outcome.ok) prepared.push({ index, event: outcome.event });
    else {
      tooLarge ||= outcome.tooLarge === true;
      failed.push({ index, error: outcome.tooLarge ? 'event too large' : 'invalid event', errors: outcome.issues });
    }
  });
  // A single event that failed is answered as a 4xx and not audited; a batch always is.
  if (prepared.length === 0 && !batch) return { accepted: [], failed, tooLarge };

  // 3. Queue; the first message of a batch request carries its counts for the audit log (a
  //    batch that is all invalid, too: then it is the one message, without rows).
  const messages = packMessages(
    {
      tenantId: request.tenantId,
      actor: request.subject,
      requestId: request.requestId,
      batchSummary: batch ? { total: items.length, accepted: prepared.length, rejected: failed.length } : undefined,
    },
    prepared.map((item) => item.event),
    deps.ingest.sqsMaxMessageBytes,
  );
  const { failed: notQueued } = await deps.queue.enqueue(messages);

  // 4. An event the queue never took is reported failed, never silently dropped.
  const reasons = new Map(notQueued.map((entry) => [entry.eventId, entry.reason]));
  const accepted: Enqueued['accepted'] = [];
  for (const { index, event } of prepared) {
    const reason = reasons.get(event.eventId);
    if (reason === undefined) accepted.push({ index, eventId: event.eventId });
    else failed.push({ index, error: NOT_QUEUED, errors: [{ path: '', message: reason }] });
  }
  failed.sort((a, b) => a.index - b.index);
  return { accepted, failed, tooLarge };
}

/** A batch of which the queue took none of the valid items is retryable whole: a 503, not a 200. */
export function refuseIfNothingQueued({ accepted, failed }: Enqueued): void {
  if (accepted.length === 0 && failed.some((item) => item.error === NOT_QUEUED)) {
    throw new QueueUnavailableError('None of the valid events could be queued; nothing of this batch was accepted.');
  }
}

/** POST /v1/events: one event; any failure fails the request. */
export async function trackEvent(deps: TrackDeps, request: TrackRequest, body: unknown): Promise<{ eventId: string }> {
  const { accepted, failed, tooLarge } = await enqueueItems(deps, request, [body]);
  const [first] = accepted;
  if (first) return { eventId: first.eventId };
  if (tooLarge) throw new PayloadTooLargeError(failed[0]?.errors[0]?.message ?? 'event too large', failed[0]?.errors);
  if (failed[0]?.error === 'invalid event') throw new ValidationError(failed[0].errors);
  throw new QueueUnavailableError('The event could not be queued.');
}

/**
 * POST /v1/events/batch: a receipt per index; valid items of a partly invalid batch are kept.
 * When the queue took none of the valid items, the whole request is retryable: a 503 with
 * Retry-After says so in the way every HTTP client and SDK understands, where a 200 full of
 * failures would be taken for success by a client that reads only the status.
 */
export async function trackBatch(deps: TrackDeps, request: TrackRequest, body: unknown): Promise<BatchReceipt> {
  const { events, sentAt } = parseInput(BatchEnvelopeSchema, body);
  const { accepted, failed } = await enqueueItems(deps, request, events, { sentAt });
  refuseIfNothingQueued({ accepted, failed });
  return { total: events.length, successful: accepted.map((item) => item.eventId), failed };
}
