import { describe, expect, it } from 'vitest';
import { resolveEventTimestamp } from '../../../../lambdas/shared/domain/event-timestamps.js';

const receivedAt = new Date('2026-06-01T12:00:00.000Z');

describe('resolveEventTimestamp', () => {
  it('takes the receive time when the client sent none', () => {
    expect(resolveEventTimestamp({ receivedAt })).toEqual({ timestamp: receivedAt });
  });

  it('keeps a client timestamp as it is without sentAt', () => {
    expect(resolveEventTimestamp({ clientTimestamp: '2026-06-01T11:00:00.000Z', receivedAt }).timestamp.toISOString()).toBe('2026-06-01T11:00:00.000Z');
  });

  it('corrects clock skew as receivedAt - (sentAt - timestamp) and keeps the original', () => {
    // The device clock is 2 hours fast: it says it sent at 14:00 an event from 13:55.
    const resolved = resolveEventTimestamp({ clientTimestamp: '2026-06-01T13:55:00.000Z', sentAt: '2026-06-01T14:00:00.000Z', receivedAt });
    expect(resolved.timestamp.toISOString()).toBe('2026-06-01T11:55:00.000Z');
    expect(resolved.originalTimestamp).toBe('2026-06-01T13:55:00.000Z');
  });

  it('sets an event more than 24 h ahead to the receive time and keeps the original', () => {
    const resolved = resolveEventTimestamp({ clientTimestamp: '2026-06-03T12:00:00.000Z', receivedAt });
    expect(resolved).toEqual({ timestamp: receivedAt, originalTimestamp: '2026-06-03T12:00:00.000Z' });
  });

  it('keeps an event less than 24 h ahead', () => {
    expect(resolveEventTimestamp({ clientTimestamp: '2026-06-02T11:00:00.000Z', receivedAt }).timestamp.toISOString()).toBe('2026-06-02T11:00:00.000Z');
  });
});
