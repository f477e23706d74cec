import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FUTURE_SKEW_MS, MAX_MESSAGE_MONTHS, MAX_RETENTION_DAYS } from '../../../../lambdas/shared/domain/limits.js';
import { packMessages, readMessage } from '../../../../lambdas/shared/domain/queue-messages.js';
import { TENANT_A, trackedEvent } from '../../../support/factories.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The oldest and the newest timestamp an ingest accepts at `receivedAt`, and the first instant of every month between. */
function timestampsAcceptedAt(receivedAt: number): string[] {
  const oldest = new Date(receivedAt - MAX_RETENTION_DAYS * DAY_MS);
  const newest = new Date(receivedAt + MAX_FUTURE_SKEW_MS);
  const stamps = [oldest, newest];
  for (let month = Date.UTC(oldest.getUTCFullYear(), oldest.getUTCMonth() + 1, 1); month < newest.getTime(); month = Date.UTC(new Date(month).getUTCFullYear(), new Date(month).getUTCMonth() + 1, 1)) {
    stamps.push(new Date(month));
  }
  return stamps.map((stamp) => stamp.toISOString());
}

describe('MAX_RETENTION_DAYS', () => {
  it('keeps one message of events from the oldest to the newest accepted within the header\'s month limit', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2400-12-31T23:59:59Z'), noInvalidDate: true }), (receivedAt) => {
        const events = timestampsAcceptedAt(receivedAt.getTime()).map((timestamp) => trackedEvent({ timestamp }));

        const messages = packMessages({ tenantId: TENANT_A, actor: 'a', requestId: 'r' }, events, 1024 * 1024);

        expect(messages).toHaveLength(1);
        const received = readMessage(messages[0]!.body);
        if (typeof received === 'string') throw new Error(received);
        expect(received.header.months.length).toBeLessThanOrEqual(MAX_MESSAGE_MONTHS);
      }),
    );
  });
});
