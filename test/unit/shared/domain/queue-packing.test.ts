import { describe, expect, it } from 'vitest';
import { packEnvelopes } from '../../../../lambdas/shared/domain/queue-packing.js';
import { TENANT_A, trackedEvent } from '../../../support/factories.js';

const header = { version: 1 as const, tenantId: TENANT_A, actor: 'a', requestId: 'r', batchSummary: { total: 300, accepted: 300, rejected: 0 } };

describe('packEnvelopes', () => {
  it('packs events into as few messages as fit under the limit, in order', () => {
    const events = Array.from({ length: 300 }, () => trackedEvent({ properties: { pad: 'x'.repeat(400) } }));
    const envelopes = packEnvelopes(header, events, 16 * 1024);
    const sizes = envelopes.map((envelope) => Buffer.byteLength(JSON.stringify(envelope)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16 * 1024);
    expect(envelopes.flatMap((envelope) => envelope.events)).toEqual(events);
    const perMessage = envelopes[0]!.events.length;
    expect(envelopes.length).toBe(Math.ceil(events.length / perMessage));
  });

  it('puts the batch summary on the first message only', () => {
    const envelopes = packEnvelopes(header, Array.from({ length: 50 }, () => trackedEvent()), 4 * 1024);
    expect(envelopes[0]?.batchSummary).toEqual(header.batchSummary);
    expect(envelopes.slice(1).every((envelope) => !('batchSummary' in envelope))).toBe(true);
  });
});
