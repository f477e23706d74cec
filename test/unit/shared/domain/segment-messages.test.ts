import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  basicWriteKey,
  bodyWriteKey,
  mapSegmentMessage,
  segmentEventId,
  segmentIssue,
  segmentUserUuid,
  uuidV5,
  type MappedSegmentMessage,
} from '../../../../lambdas/shared/domain/segment-messages.js';
import { TENANT_A, TENANT_B } from '../../../support/factories.js';

const mapped = (message: unknown, defaults = {}): MappedSegmentMessage => {
  const outcome = mapSegmentMessage(message, TENANT_A, defaults);
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.issues));
  return outcome.mapped;
};
const issuesOf = (message: unknown) => {
  const outcome = mapSegmentMessage(message, TENANT_A);
  return outcome.ok ? [] : outcome.issues.map((issue) => issue.path);
};

/** RFC 9562's steps as written, with a hash object: what the in-place version must equal. */
function referenceUuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replaceAll('-', ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('uuidV5', () => {
  it("gives RFC 9562's example id for www.example.com in the DNS namespace", () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('equals the steps of RFC 9562 for any name, short or long, in any namespace, one call after another', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', minLength: 600, maxLength: 1500 })), (namespace, name) => {
        expect(uuidV5(namespace, name)).toBe(referenceUuidV5(namespace, name));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('ids', () => {
  it('give the same event id for the same messageId of a tenant, another for another tenant', () => {
    expect(segmentEventId(TENANT_A, 'm-1')).toBe(segmentEventId(TENANT_A, 'm-1'));
    expect(segmentEventId(TENANT_A, 'm-1')).not.toBe(segmentEventId(TENANT_B, 'm-1'));
  });

  it('keep a UUID user id and map any other to a stable UUID per tenant', () => {
    expect(segmentUserUuid(TENANT_A, 'AB6C1F5E-1111-4111-8111-111111111111')).toBe('ab6c1f5e-1111-4111-8111-111111111111');
    expect(segmentUserUuid(TENANT_A, 'user-42')).toBe(segmentUserUuid(TENANT_A, 'user-42'));
    expect(segmentUserUuid(TENANT_A, 'user-42')).not.toBe(segmentUserUuid(TENANT_B, 'user-42'));
  });
});

describe('mapSegmentMessage', () => {
  it('maps a track: event -> action, properties.category -> category, USER_ACTION, label and value', () => {
    const { event, extras } = mapped({ type: 'track', event: 'Order Completed', userId: 'user-42', messageId: 'm-1', properties: { category: 'Checkout', label: 'basket', revenue: 12.5 } });

    expect(event).toMatchObject({ id: segmentEventId(TENANT_A, 'm-1'), type: 'USER_ACTION', category: 'Checkout', action: 'Order Completed', label: 'basket', value: 12.5, userId: segmentUserUuid(TENANT_A, 'user-42') });
    expect(extras).toMatchObject({ ids: { type: 'track', messageId: 'm-1' }, metadata: { userId: 'user-42' } });
  });

  it('falls back to the call as category, and takes the type from properties.eventType', () => {
    expect(mapped({ type: 'track', event: 'Load', anonymousId: 'a', properties: { eventType: 'PERFORMANCE', value: 120 } }).event).toMatchObject({ type: 'PERFORMANCE', category: 'track', value: 120, sessionId: 'a' });
    expect(issuesOf({ type: 'track', event: 'Load', anonymousId: 'a', properties: { eventType: 'LAUNCH' } })).toEqual(['properties.eventType']);
  });

  it('maps page and screen: their category, their name as action, else the call', () => {
    expect(mapped({ type: 'page', category: 'Docs', name: 'Install', anonymousId: 'a' }).event).toMatchObject({ category: 'Docs', action: 'Install' });
    expect(mapped({ type: 'screen', anonymousId: 'a' }).event).toMatchObject({ category: 'screen', action: 'screen' });
  });

  it('keeps the traits of identify and group as properties, and groupId and previousId in metadata', () => {
    expect(mapped({ type: 'identify', userId: 'u', traits: { plan: 'pro' } }).event).toMatchObject({ category: 'identify', action: 'identify', properties: { plan: 'pro' } });
    const group = mapped({ type: 'group', userId: 'u', groupId: 7, traits: { seats: 3 } });
    expect(group.event).toMatchObject({ properties: { seats: 3 } });
    expect(group.extras.metadata).toMatchObject({ groupId: '7' });
    expect(mapped({ type: 'alias', userId: 'u', previousId: 'anon' }).extras.metadata).toMatchObject({ previousId: 'anon' });
  });

  it("moves Segment's context onto ours where it fits and keeps the rest, ip and userAgent aside", () => {
    const { event, extras } = mapped({
      type: 'page',
      anonymousId: 'a',
      context: { ip: '203.0.113.9', userAgent: 'Mozilla/5.0', locale: 'de-DE', page: { url: 'https://shop.example/p', referrer: 'https://search.example/' }, os: { name: 'Linux' }, device: { type: 'mobile' }, campaign: { source: 'mail' } },
    });

    expect(event['context']).toEqual({ page: 'https://shop.example/p', referrer: 'https://search.example/', userAgent: 'Mozilla/5.0', ipAddress: '203.0.113.9', locale: 'de-DE', os: 'Linux', deviceType: 'mobile' });
    expect(extras.context).toEqual({ locale: 'de-DE', page: { url: 'https://shop.example/p', referrer: 'https://search.example/' }, os: { name: 'Linux' }, device: { type: 'mobile' }, campaign: { source: 'mail' } });
  });

  it("merges the batch's context and integrations under the message's own", () => {
    const { event, extras, sentAt } = mapped({ type: 'track', event: 'x', userId: 'u', context: { locale: 'fr-FR' } }, { context: { locale: 'en-GB', timezone: 'Europe/Paris' }, integrations: { All: false }, sentAt: '2026-01-01T00:00:00Z' });

    expect(event['context']).toMatchObject({ locale: 'fr-FR', timezone: 'Europe/Paris' });
    expect(extras.metadata).toMatchObject({ integrations: { All: false } });
    expect(sentAt).toBe('2026-01-01T00:00:00Z');
  });

  it('takes originalTimestamp before timestamp, and a message sentAt before the batch one', () => {
    const { event, sentAt } = mapped({ type: 'track', event: 'x', userId: 'u', timestamp: '2026-01-01T00:00:05Z', originalTimestamp: '2026-01-01T00:00:01Z', sentAt: '2026-01-01T00:00:09Z' }, { sentAt: '2026-01-01T00:00:10Z' });

    expect(event['timestamp']).toBe('2026-01-01T00:00:01Z');
    expect(sentAt).toBe('2026-01-01T00:00:09Z');
  });

  it('refuses, by field, a long messageId, a non-string userId, an unknown type, no ids, a track without event', () => {
    expect(issuesOf({ type: 'track', event: 'x', userId: 'u', messageId: 'm'.repeat(101) })).toEqual(['messageId']);
    expect(issuesOf({ type: 'track', event: 'x', userId: 42 })).toEqual(['userId']);
    expect(issuesOf({ type: 'launch', userId: 'u' })).toEqual(['type']);
    expect(issuesOf({ type: 'track', event: 'x' })).toEqual(['userId']);
    expect(issuesOf({ type: 'track', userId: 'u' })).toEqual(['event']);
  });

  it('refuses a message over 32 KB as too large', () => {
    const outcome = mapSegmentMessage({ type: 'track', event: 'x', userId: 'u', properties: { blob: 'x'.repeat(33 * 1024) } }, TENANT_A);

    expect(outcome).toMatchObject({ ok: false, tooLarge: true });
  });

  it('measures exactly a message whose bound is over 32 KB: 20 KB of letters pass, 6 KB of control characters (36 KB as JSON) do not', () => {
    expect(mapSegmentMessage({ type: 'track', event: 'x', userId: 'u', properties: { blob: 'x'.repeat(20 * 1024) } }, TENANT_A)).toMatchObject({ ok: true });
    expect(mapSegmentMessage({ type: 'track', event: 'x', userId: 'u', properties: { blob: '\u0001'.repeat(6 * 1024) } }, TENANT_A)).toMatchObject({ ok: false, tooLarge: true });
  });

  it("counts the batch's context merged into a message against 32 KB, and not the fields Segment's API ignores", () => {
    const message = { type: 'track', event: 'x', userId: 'u' };

    expect(mapSegmentMessage(message, TENANT_A, { context: { campaign: { content: 'x'.repeat(33 * 1024) } } })).toMatchObject({ ok: false, tooLarge: true });
    expect(mapSegmentMessage({ ...message, _metadata: { bundled: ['x'.repeat(33 * 1024)] } }, TENANT_A)).toMatchObject({ ok: true });
  });

  it('does not repeat ids the columns hold unchanged, keeps a UUID in upper case exactly, and leaves the originals of mapped ones to be masked', () => {
    const plain = mapped({ type: 'track', event: 'x', userId: 'A1B2C3D4-4111-4111-8111-111111111111', anonymousId: 'anon-4111 1111 1111 1111' });
    const hashed = mapped({ type: 'track', event: 'x', userId: 'buyer@example.com', anonymousId: 'a'.repeat(65) });
    const lower = mapped({ type: 'track', event: 'x', userId: 'a1b2c3d4-4111-4111-8111-111111111111', anonymousId: 'anon-1' });

    expect(plain.extras.ids).toEqual({ type: 'track', userId: 'A1B2C3D4-4111-4111-8111-111111111111' });
    expect(lower.extras.ids).toEqual({ type: 'track' });
    expect(lower.extras.metadata).toEqual({});
    expect(lower.event).toMatchObject({ userId: 'a1b2c3d4-4111-4111-8111-111111111111', sessionId: 'anon-1' });
    expect(plain.extras.metadata).toEqual({});
    expect(plain.event).toMatchObject({ userId: 'a1b2c3d4-4111-4111-8111-111111111111', sessionId: 'anon-4111 1111 1111 1111' });
    expect(hashed.extras.ids).toEqual({ type: 'track' });
    expect(hashed.extras.metadata).toEqual({ userId: 'buyer@example.com', anonymousId: 'a'.repeat(65) });
  });

  it("checks our fields as they are built, each complaint naming the Segment field, all of them at once", () => {
    expect(issuesOf({ type: 'track', event: 'e'.repeat(101), userId: 'u', properties: { category: 'bad\u0000', label: 'l'.repeat(256) } })).toEqual(['properties.category', 'event', 'properties.label']);
    expect(issuesOf({ type: 'page', name: 'n'.repeat(101), category: 'c'.repeat(101), anonymousId: 'a\u0000' })).toEqual(['category', 'name', 'anonymousId']);
    expect(issuesOf({ type: 'screen', anonymousId: 'a', properties: { name: '\ud800' } })).toEqual(['properties.name']);
    expect(issuesOf({ type: 'track', event: 'x', userId: 'u', properties: { nested: { deep: '\ud800' } } })).toEqual(['properties.nested.deep']);
    expect(issuesOf({ type: 'identify', userId: 'u', traits: { eventType: 'LAUNCH', '\u0000': 1 } })).toEqual(['traits.eventType', 'traits']);
    expect(issuesOf({ type: 'identify', userId: 'u', context: { traits: { plan: '\ud800' } } })).toEqual(['context.traits.plan']);
  });

  it('reports every bad Segment field of a message, not the first only', () => {
    expect(issuesOf({ type: 'track', event: 7, userId: 42, timestamp: 'yesterday', properties: [] })).toEqual(['userId', 'event', 'properties', 'timestamp']);
    expect(issuesOf('a string')).toEqual(['']);
  });

  it("names the Segment field of a complaint from the type rules or the timestamp", () => {
    const performance = mapped({ type: 'track', event: 'x', userId: 'u', properties: { eventType: 'PERFORMANCE', revenue: -1 } });
    const identify = mapped({ type: 'identify', userId: 'u', traits: {}, originalTimestamp: '2020-01-01T00:00:00Z' });

    expect(segmentIssue({ path: 'value', message: 'negative' }, performance.issuePaths)).toEqual({ path: 'properties.revenue', message: 'negative' });
    expect(segmentIssue({ path: 'properties.currency', message: 'bad' }, identify.issuePaths)).toEqual({ path: 'traits.currency', message: 'bad' });
    expect(segmentIssue({ path: 'timestamp', message: 'too old' }, identify.issuePaths)).toEqual({ path: 'originalTimestamp', message: 'too old' });
  });
});

describe('the write key of a request', () => {
  it('reads HTTP Basic with the key as user name, and the body', () => {
    const basic = `Basic ${Buffer.from('wk_abc:').toString('base64')}`;

    expect(basicWriteKey(basic)).toBe('wk_abc');
    expect(bodyWriteKey({ writeKey: 'wk_body' })).toBe('wk_body');
    expect(basicWriteKey('Bearer wk_abc')).toBeUndefined();
    expect(basicWriteKey(undefined)).toBeUndefined();
    expect(bodyWriteKey({})).toBeUndefined();
  });
});
