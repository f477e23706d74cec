import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiEvent } from '../../../lambdas/shared/adapters/http/api-gateway.js';
import { PII_DETECTORS } from '../../../lambdas/shared/domain/pii-masking.js';
import type { EventQueue } from '../../../lambdas/shared/ports/event-queue.js';
import { createHandler } from '../../../lambdas/track-event/handler.js';
import { recordMetrics } from '../../support/emf.js';
import { TENANT_A } from '../../support/factories.js';
import { recordingLimiter } from '../../support/fake-limits.js';

const acceptingQueue: EventQueue = { enqueue: async () => ({ failed: [] }) };
const trackEvent = createHandler({
  queue: acceptingQueue,
  limiter: recordingLimiter(),
  http: { corsOrigins: [] },
  ingest: { pii: { deployment: { detectors: PII_DETECTORS, mode: 'redact' }, tenants: {} }, eventRetentionDays: 90, sqsMaxMessageBytes: 256 * 1024 },
});
const post = (body: unknown) =>
  ({
    httpMethod: 'POST',
    resource: '/v1/events',
    headers: {},
    body: JSON.stringify(body),
    requestContext: { authorizer: { tenantId: TENANT_A, subject: 'u1', scopes: 'events:write' } },
  }) as unknown as ApiEvent;
const context = { awsRequestId: 'req-1' } as Context;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('track-event handler metrics', () => {
  it('counts an accepted event', async () => {
    const metrics = recordMetrics();

    const answer = await trackEvent(post({ type: 'CUSTOM', category: 'c', action: 'a' }), context);

    expect(answer.statusCode).toBe(202);
    expect(metrics.datapoints()).toEqual([{ metric: 'EventsAccepted', dimensions: {}, value: 1 }]);
  });

  it('counts an invalid event as rejected, as the batch route counts an invalid item', async () => {
    const metrics = recordMetrics();

    const answer = await trackEvent(post({ type: 'BOGUS', category: 'c', action: 'a' }), context);

    expect(answer.statusCode).toBe(400);
    expect(metrics.datapoints()).toEqual([{ metric: 'EventsRejected', dimensions: {}, value: 1 }]);
  });
});
