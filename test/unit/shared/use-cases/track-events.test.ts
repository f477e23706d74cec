import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, QueueUnavailableError, RateLimitedError, ValidationError } from '../../../../lambdas/shared/domain/errors.js';
import { PII_DETECTORS, type PiiSettings } from '../../../../lambdas/shared/domain/pii-masking.js';
import type { EventQueue } from '../../../../lambdas/shared/ports/event-queue.js';
import { trackBatch, trackEvent, type TrackDeps } from '../../../../lambdas/shared/use-cases/track-events.js';
import { decodeMessage, TENANT_A } from '../../../support/factories.js';
import { recordingLimiter } from '../../../support/fake-limits.js';

type SentMessage = ReturnType<typeof decodeMessage> & { body: string };

function recordingQueue(failIds: string[] = []): EventQueue & { sent: SentMessage[] } {
  const sent: SentMessage[] = [];
  return {
    sent,
    async enqueue(messages) {
      sent.push(...messages.map(({ body }) => ({ body, ...decodeMessage(body) })));
      const failed = messages.flatMap((message) => message.eventIds).filter((eventId) => failIds.includes(eventId));
      return { failed: failed.map((eventId) => ({ eventId, reason: 'throttled' })) };
    },
  };
}

const json = (text: string | null | undefined): Record<string, unknown> => JSON.parse(text ?? 'null') as Record<string, unknown>;

const pii: PiiSettings = { deployment: { detectors: PII_DETECTORS, mode: 'redact' }, tenants: {} };
const settings = { pii, eventRetentionDays: 90, sqsMaxMessageBytes: 256 * 1024 };
const request = { tenantId: TENANT_A, subject: 'sub-1', requestId: 'req-1', receivedAt: new Date() };
const deps = (queue: EventQueue, limiter = recordingLimiter()): TrackDeps => ({ queue, limiter, ingest: settings });
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('trackBatch', () => {
  it('gives every index a receipt and keeps the valid items of a partly invalid batch', async () => {
    const queue = recordingQueue();

    const receipt = await trackBatch(deps(queue), request, {
      events: [
        { id: id(1), type: 'CUSTOM', category: 'c', action: 'a' },
        { type: 'BOGUS', category: 'c', action: 'a' },
        { id: id(3), type: 'CUSTOM', category: 'c', action: 'a' },
      ],
    });

    expect(receipt.total).toBe(3);
    expect(receipt.successful).toEqual([id(1), id(3)]);
    expect(receipt.failed).toEqual([{ index: 1, error: 'invalid event', errors: [{ path: 'type', message: expect.any(String) }] }]);
    expect(queue.sent.flatMap((item) => item.rows).map((row) => row.eventId)).toEqual([id(1), id(3)]);
  });

  it('tags the tenant from the credential and summarises the request on the first message', async () => {
    const queue = recordingQueue();

    await trackBatch(deps(queue), request, { events: [{ type: 'CUSTOM', category: 'c', action: 'a' }, {}] });

    expect(queue.sent[0]?.header).toMatchObject({ tenantId: TENANT_A, actor: 'sub-1', requestId: 'req-1', batchSummary: { total: 2, accepted: 1, rejected: 1 } });
  });

  it('summarises a batch of one for the audit too, and a single event never', async () => {
    const queue = recordingQueue();
    await trackBatch(deps(queue), request, { events: [{ type: 'CUSTOM', category: 'c', action: 'a' }] });
    await trackEvent(deps(queue), request, { type: 'CUSTOM', category: 'c', action: 'a' });
    expect(queue.sent.map((message) => message.header.batchSummary)).toEqual([{ total: 1, accepted: 1, rejected: 0 }, undefined]);
  });

  it('hashes PII with the tenant key when the deployment says hash, before queueing', async () => {
    const queue = recordingQueue();
    const hashing: PiiSettings = { ...pii, deployment: { ...pii.deployment, mode: 'hash' }, hashSecret: 'a-deployment-secret-of-32-characters!' };
    await trackBatch({ queue, limiter: recordingLimiter(), ingest: { ...settings, pii: hashing } }, request, {
      events: [{ type: 'CUSTOM', category: 'c', action: 'a', properties: { contact: 'jane@example.com' } }],
    });
    expect(queue.sent.map((message) => message.body).join('')).not.toContain('jane@example.com');
    expect(json(queue.sent[0]?.rows[0]?.properties)['contact']).toMatch(/^\[email:[0-9a-f]{12}\]$/);
  });

  it("applies a tenant's own PII rule instead of the deployment's", async () => {
    const queue = recordingQueue();
    const ownRule: PiiSettings = { ...pii, tenants: { [TENANT_A]: { detectors: ['email'], mode: 'redact' } } };
    await trackBatch({ queue, limiter: recordingLimiter(), ingest: { ...settings, pii: ownRule } }, request, {
      events: [{ type: 'CUSTOM', category: 'c', action: 'a', properties: { contact: 'jane@example.com', phone: '+44 20 7946 0958' }, context: { ipAddress: '203.0.113.77' } }],
    });
    const [queued] = queue.sent[0]?.rows ?? [];
    expect(json(queued?.properties)).toEqual({ contact: '[email]', phone: '+44 20 7946 0958' });
    expect(json(queued?.context)['ipAddress']).toBe('203.0.113.77');
  });

  it('reports an event the queue did not take as failed, never as successful', async () => {
    const receipt = await trackBatch(deps(recordingQueue([id(2)])), request, {
      events: [1, 2].map((n) => ({ id: id(n), type: 'CUSTOM', category: 'c', action: 'a' })),
    });

    expect(receipt.successful).toEqual([id(1)]);
    expect(receipt.failed).toEqual([{ index: 1, error: 'not queued, retry later', errors: [{ path: '', message: 'throttled' }] }]);
  });

  it('answers a batch whose valid events the queue took none of as unavailable, to be retried whole', async () => {
    const refused = trackBatch(deps(recordingQueue([id(1), id(2)])), request, {
      events: [{ id: id(1), type: 'CUSTOM', category: 'c', action: 'a' }, { id: id(2), type: 'CUSTOM', category: 'c', action: 'a' }, { id: id(3) }],
    });

    await expect(refused).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('rejects a batch of 0 or 1001 events as a whole, naming the field', async () => {
    await expect(trackBatch(deps(recordingQueue()), request, { events: [] })).rejects.toMatchObject({ issues: [{ path: 'events' }] });
    await expect(trackBatch(deps(recordingQueue()), request, { events: Array(1001).fill({}) })).rejects.toBeInstanceOf(ValidationError);
  });

  it("takes every item sent from the tenant's event bucket, invalid ones too", async () => {
    const limiter = recordingLimiter();
    await trackBatch(deps(recordingQueue(), limiter), request, { events: [{ type: 'CUSTOM', category: 'c', action: 'a' }, {}, {}] });
    expect(limiter.taken).toEqual([{ tenantId: TENANT_A, holder: 'members', kind: 'events', cost: 3 }]);
  });

  it('queues nothing of a batch over the event rate and says when to retry', async () => {
    const queue = recordingQueue();
    const refused = trackBatch(deps(queue, recordingLimiter(['events'])), request, { events: [{ type: 'CUSTOM', category: 'c', action: 'a' }] });
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 2 });
    expect(queue.sent).toEqual([]);
  });

  it('sends only the summary, in one message without rows, when no item is valid, so that the writer audits the batch', async () => {
    const queue = recordingQueue();
    const receipt = await trackBatch(deps(queue), request, { events: [{}, { type: 'CUSTOM' }] });
    expect(receipt.failed.map((item) => item.index)).toEqual([0, 1]);
    expect(queue.sent.map(({ header, rows }) => [header.batchSummary, header.months, rows])).toEqual([[{ total: 2, accepted: 0, rejected: 2 }, [], []]]);
  });

  it('sends nothing for a single event that is not valid', async () => {
    const queue = recordingQueue();
    await expect(trackEvent(deps(queue), request, { type: 'CUSTOM' })).rejects.toBeInstanceOf(ValidationError);
    expect(queue.sent).toEqual([]);
  });
});

describe('trackEvent', () => {
  it('returns the event id once queued', async () => {
    await expect(trackEvent(deps(recordingQueue()), request, { id: id(7), type: 'CUSTOM', category: 'c', action: 'a' })).resolves.toEqual({ eventId: id(7) });
  });

  it('throws a validation error, a too-large error or an unavailable error', async () => {
    await expect(trackEvent(deps(recordingQueue()), request, { type: 'CUSTOM' })).rejects.toBeInstanceOf(ValidationError);
    await expect(trackEvent(deps(recordingQueue()), request, { type: 'CUSTOM', category: 'c', action: 'a', label: 'x', properties: { big: 'x'.repeat(40_000) } })).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(trackEvent(deps(recordingQueue([id(8)])), request, { id: id(8), type: 'CUSTOM', category: 'c', action: 'a' })).rejects.toBeInstanceOf(QueueUnavailableError);
  });
});
