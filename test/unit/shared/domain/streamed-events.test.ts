import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { copyText, queuedRow, readCopyText } from '../../../../lambdas/shared/domain/queue-messages.js';
import { streamedEventOf, streamedEventsOfRows } from '../../../../lambdas/shared/domain/streamed-events.js';
import { asStored, storedEvent, trackedEvent } from '../../../support/factories.js';

const STORED_AT = '2026-01-01T00:00:01.000Z';
const rowsOf = (...events: Parameters<typeof queuedRow>[0][]) => events.map((event) => queuedRow(event, 'tester', 'request')).join('');
const parsed = (rows: string, notNew: string[] = []) => streamedEventsOfRows(rows, STORED_AT, new Set(notNew)).map((event) => JSON.parse(event.json) as unknown);

describe('readCopyText', () => {
  it('reads back what copyText wrote, and the other escapes of COPY text', () => {
    for (const text of ['plain', 'tab\there', 'line\nbreak\r', 'back\\slash \\N', '\u0001\u001f', 'é 😀', '']) expect(readCopyText(copyText(text))).toBe(text);
    expect(readCopyText(copyText(null))).toBeNull();
    expect(readCopyText('\\b\\f\\v\\101\\x41\\q')).toBe('\b\f\vAAq');
  });
});

describe('streamedEventsOfRows', () => {
  it('makes the JSON of each stored event from its queued row, as GET answers it', () => {
    const event = trackedEvent({
      eventId: randomUUID().toUpperCase(), userId: randomUUID().toUpperCase(), value: 1e21, label: 'say "hi"\t\\ 😀', sessionId: 's\u0001',
      properties: { plan: 'pro', 'odd\nkey': [1, 'a\\b', null] }, context: { locale: 'en' }, metadata: { source: 'web' },
    });

    expect(parsed(rowsOf(event))).toEqual([{ ...asStored(event, STORED_AT), eventId: event.eventId.toLowerCase(), userId: event.userId?.toLowerCase() }]);
  });

  it("keeps an id's first row only, skips the ids stored before, and orders by timestamp, then id", () => {
    const [late, early, seen] = ['2026-01-01T00:00:00.300Z', '2026-01-01T00:00:00.100Z', '2026-01-01T00:00:00.000Z'].map((timestamp) => trackedEvent({ timestamp }));
    if (!late || !early || !seen) throw new Error('three events');
    const events = streamedEventsOfRows(rowsOf(late, early, { ...late, label: 'again' }, seen), STORED_AT, new Set([seen.eventId]));

    expect(events.map((each) => each.eventId)).toEqual([early.eventId, late.eventId]);
    expect((JSON.parse(events[1]?.json ?? '{}') as { label: unknown }).label).toBeNull();
  });

  it('gives filters the type, the category and the properties', () => {
    const [event] = streamedEventsOfRows(rowsOf(trackedEvent({ type: 'ERROR', category: 'app', properties: { user: { tier: 2 } } })), STORED_AT, new Set());
    expect(event).toMatchObject({ type: 'ERROR', category: 'app', properties: { user: { tier: 2 } } });
  });
});

describe('streamedEventOf', () => {
  it('carries a parsed stored event as its JSON', () => {
    const stored = storedEvent({ properties: { plan: 'pro' } });
    expect(JSON.parse(streamedEventOf(stored).json)).toEqual(stored);
    expect(streamedEventOf(stored).properties).toEqual({ plan: 'pro' });
  });
});
