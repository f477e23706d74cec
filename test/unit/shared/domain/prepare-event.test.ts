import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, nestsDeeperThan } from '../../../../lambdas/shared/domain/limits.js';
import { DEFAULT_PII_POLICY } from '../../../../lambdas/shared/domain/pii-masking.js';
import { prepareEvent, type PrepareContext } from '../../../../lambdas/shared/domain/prepare-event.js';

const receivedAt = new Date('2026-06-01T12:00:00.000Z');
const context: PrepareContext = { receivedAt, piiPolicy: DEFAULT_PII_POLICY, retentionDays: 90, newEventId: () => '00000000-0000-4000-8000-00000000000a' };

describe('prepareEvent', () => {
  it('fills id and timestamp, masks PII and truncates the IP before anything is queued', () => {
    const outcome = prepareEvent(
      { type: 'CUSTOM', category: 'c', action: 'a', label: 'from a@b.io', properties: { token: 't0p' }, context: { ipAddress: '198.51.100.23' } },
      context,
    );
    expect(outcome).toEqual({
      ok: true,
      event: expect.objectContaining({
        eventId: '00000000-0000-4000-8000-00000000000a',
        timestamp: receivedAt.toISOString(),
        receivedAt: receivedAt.toISOString(),
        label: 'from [email]',
        properties: { token: '[redacted]' },
        context: { ipAddress: '198.51.100.0' },
      }),
    });
  });

  it('keeps the client id so that retries dedupe', () => {
    const outcome = prepareEvent({ id: 'f3f9d1c2-5b7a-4d6e-8f90-123456789abc', type: 'CUSTOM', category: 'c', action: 'a' }, context);
    expect(outcome.ok && outcome.event.eventId).toBe('f3f9d1c2-5b7a-4d6e-8f90-123456789abc');
  });

  it('rejects an event over 32 KB as too large', () => {
    const outcome = prepareEvent({ type: 'CUSTOM', category: 'c', action: 'a', properties: { blob: 'x'.repeat(MAX_EVENT_BYTES) } }, context);
    expect(outcome).toMatchObject({ ok: false, tooLarge: true });
  });

  it('rejects an event older than the retention', () => {
    const outcome = prepareEvent({ type: 'CUSTOM', category: 'c', action: 'a', timestamp: '2026-01-01T00:00:00Z' }, context);
    expect(outcome).toMatchObject({ ok: false, issues: [{ path: 'timestamp' }] });
  });

  it('records the original of a clamped future timestamp in metadata', () => {
    const outcome = prepareEvent({ type: 'CUSTOM', category: 'c', action: 'a', timestamp: '2027-01-01T00:00:00.000Z' }, context);
    expect(outcome.ok && outcome.event.metadata).toEqual({ originalTimestamp: '2027-01-01T00:00:00.000Z' });
  });
});

describe('nestsDeeperThan', () => {
  it('measures any depth, never recursing past the limit', () => {
    const deep = JSON.parse(`${'['.repeat(300_000)}${']'.repeat(300_000)}`);
    expect(nestsDeeperThan(deep, 20)).toBe(true);
    const deepObjects = JSON.parse(`${'{"a":'.repeat(300_000)}1${'}'.repeat(300_000)}`);
    expect(nestsDeeperThan(deepObjects, 20)).toBe(true);
    expect(nestsDeeperThan({ a: { b: [1, { c: 2 }] } }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: { b: [1, { c: {} }] } }, 4)).toBe(true);
  });

  it('walks a key named __proto__ as JSON.parse makes it, an own key', () => {
    const body = JSON.parse('{"__proto__": {"a": {"b": {}}}}');
    expect(nestsDeeperThan(body, 3)).toBe(true);
    expect(nestsDeeperThan(body, 4)).toBe(false);
  });
});
