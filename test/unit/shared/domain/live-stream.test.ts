import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../../lambdas/shared/domain/answer-schemas.js';
import { eventsOfFilter, filterKey, frameEvents, matchesFilter, readClientFrame, readSubscription, STREAM_CLOSE, truncateReason } from '../../../../lambdas/shared/domain/live-stream.js';
import { streamedEventOf } from '../../../../lambdas/shared/domain/streamed-events.js';
import { storedEvent as stored, TENANT_A, TENANT_B } from '../../../support/factories.js';

const reader = { tenantId: TENANT_A, subject: 'u', scopes: ['events:read' as const] };

describe('readSubscription', () => {
  it('reads comma lists, property JSON and the resume point', () => {
    const after = crypto.randomUUID();
    expect(readSubscription({ types: 'ERROR, CUSTOM', categories: 'a,b', properties: '{"plan":"pro"}', after, tenantId: TENANT_A }, reader)).toEqual({
      filter: { types: ['ERROR', 'CUSTOM'], categories: ['a', 'b'], properties: { plan: 'pro' } },
      after,
    });
  });

  it('refuses another tenant and a missing scope with 4403, bad input with 4400 naming the parameter', () => {
    expect(readSubscription({ tenantId: TENANT_B }, reader)).toMatchObject({ code: STREAM_CLOSE.forbidden });
    expect(readSubscription({}, { ...reader, scopes: ['events:write'] })).toMatchObject({ code: STREAM_CLOSE.forbidden, reason: expect.stringContaining('events:read') });
    expect(readSubscription({ types: 'NOPE' }, reader)).toMatchObject({ code: STREAM_CLOSE.badRequest, reason: expect.stringMatching(/^types/) });
    expect(readSubscription({ properties: '[1]' }, reader)).toMatchObject({ code: STREAM_CLOSE.badRequest, reason: expect.stringMatching(/^properties/) });
    expect(readSubscription({ properties: '{}' }, reader)).toMatchObject({ code: STREAM_CLOSE.badRequest });
  });
});

describe('matchesFilter', () => {
  it('matches nested objects on the keys given and arrays exactly', () => {
    const event = stored({ properties: { user: { tier: 2, name: 'x' }, tags: ['a', 'b'] } });
    expect(matchesFilter(event, { properties: { user: { tier: 2 } } })).toBe(true);
    expect(matchesFilter(event, { properties: { tags: ['a', 'b'] } })).toBe(true);
    expect(matchesFilter(event, { properties: { tags: ['a'] } })).toBe(false);
    expect(matchesFilter(event, { properties: { user: { tier: '2' } } })).toBe(false);
    expect(matchesFilter(event, { types: ['ERROR'] })).toBe(false);
  });
});

describe('eventsOfFilter and filterKey', () => {
  it('takes the matching events in order, and all of them uncopied for a subscriber without a filter', () => {
    const events = [stored({ type: 'ERROR' }), stored({ type: 'CUSTOM' }), stored({ type: 'ERROR' })];
    expect(eventsOfFilter(events, {})).toBe(events);
    expect(eventsOfFilter(events, { types: ['ERROR'] })).toEqual([events[0], events[2]]);
  });

  it('gives equal filters, as readSubscription makes them, one key and different filters different keys', () => {
    const filterOf = (query: Record<string, string>) => {
      const subscription = readSubscription(query, reader);
      if ('code' in subscription) throw new Error(subscription.reason);
      return subscription.filter;
    };
    expect(filterKey(filterOf({ categories: 'a,b', types: 'ERROR' }))).toBe(filterKey(filterOf({ types: 'ERROR', categories: 'a, b' })));
    expect(filterKey(filterOf({ types: 'ERROR' }))).not.toBe(filterKey(filterOf({ categories: 'ERROR' })));
  });
});

describe('frameEvents', () => {
  it('keeps every frame within the limit and the events in order', () => {
    const events = Array.from({ length: 50 }, () => streamedEventOf(stored({ properties: { padding: 'x'.repeat(1500) } })));
    const frames = frameEvents(events);
    expect(frames.length).toBeGreaterThan(1);
    for (const frame of frames) expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(32 * 1024);
    expect(frames.flatMap((frame) => (JSON.parse(frame) as { events: StoredEvent[] }).events.map((event) => event.eventId))).toEqual(events.map((event) => event.eventId));
  });

  it('sends an event too large for a frame as a pointer to its GET', () => {
    const large = streamedEventOf(stored({ properties: { padding: 'é'.repeat(17_000) } }));
    expect(frameEvents([large]).map((frame) => JSON.parse(frame))).toEqual([{ type: 'event-too-large', eventId: large.eventId }]);
  });
});

describe('client frames and close reasons', () => {
  it('accepts only a ping and a resume from an event id', () => {
    const after = crypto.randomUUID();
    expect(readClientFrame('{"action":"ping"}')).toEqual({ action: 'ping' });
    expect(readClientFrame(JSON.stringify({ action: 'resume', after }))).toEqual({ action: 'resume', after });
    for (const frame of ['{"action":"subscribe"}', 'nope', '{"action":"ping","extra":1}', '{"action":"resume"}', '{"action":"resume","after":"1"}', JSON.stringify({ action: 'resume', after, tenantId: after })]) {
      expect(readClientFrame(frame), frame).toMatchObject({ code: STREAM_CLOSE.badRequest });
    }
  });

  it('cuts a reason to the 123 bytes a close frame allows', () => {
    expect(Buffer.byteLength(truncateReason('é'.repeat(200)))).toBeLessThanOrEqual(123);
  });
});
