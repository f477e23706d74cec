import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventTypeEnum } from '../../../../lambdas/shared/domain/event-schemas.js';
import { copyJson, copyText, countEventTypes, packMessages, queuedRow, readMessage } from '../../../../lambdas/shared/domain/queue-messages.js';
import { decodeMessage, decodeRows, TENANT_A, trackedEvent } from '../../../support/factories.js';

const request = { tenantId: TENANT_A, actor: 'a', requestId: 'r', batchSummary: { total: 300, accepted: 300, rejected: 0 } };

/** Characters an SQS message body may not hold (besides tab, newline and carriage return). */
const NOT_FOR_SQS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

describe('packMessages', () => {
  it('packs events into as few messages as fit under the limit, in order', () => {
    const events = Array.from({ length: 300 }, () => trackedEvent({ properties: { pad: 'x'.repeat(400) } }));
    const messages = packMessages(request, events, 16 * 1024);
    expect(Math.max(...messages.map((message) => Buffer.byteLength(message.body)))).toBeLessThanOrEqual(16 * 1024);
    expect(messages.flatMap((message) => decodeMessage(message.body).rows.map((row) => row.eventId))).toEqual(events.map((event) => event.eventId));
    expect(messages.flatMap((message) => message.eventIds)).toEqual(events.map((event) => event.eventId));
    const perMessage = messages[0]!.eventIds.length;
    expect(messages.length).toBe(Math.ceil(events.length / perMessage));
  });

  it('puts the batch summary on the first message only', () => {
    const messages = packMessages(request, Array.from({ length: 50 }, () => trackedEvent()), 4 * 1024);
    const headers = messages.map((message) => decodeMessage(message.body).header);
    expect(headers[0]?.batchSummary).toEqual(request.batchSummary);
    expect(headers.slice(1).every((header) => !('batchSummary' in header))).toBe(true);
  });

  it('packs a batch without events into one message of its summary alone, and no batch summary into none', () => {
    const [only, ...rest] = packMessages(request, [], 4 * 1024);
    expect(rest).toEqual([]);
    expect(only?.eventIds).toEqual([]);
    expect(decodeMessage(only?.body ?? '')).toEqual({ header: expect.objectContaining({ months: [], batchSummary: request.batchSummary }), rows: [] });
    expect(packMessages({ ...request, batchSummary: undefined }, [], 4 * 1024)).toEqual([]);
  });

  it('reads a message without months only as a batch summary without rows', () => {
    const [summary] = packMessages(request, [], 4 * 1024);
    const header = JSON.parse(summary?.body.split('\n')[0] ?? '{}') as Record<string, unknown>;
    const { batchSummary: _counts, ...plain } = header;
    const row = queuedRow(trackedEvent(), 'a', 'r');
    expect(readMessage(`${JSON.stringify(plain)}\n`)).toMatch(/months: a message without rows carries a batch summary/);
    expect(readMessage(`${JSON.stringify(header)}\n${row}`)).toMatch(/months: names no month for its rows/);
  });

  it("names in each header the months of that message's events, and stays under the limit with many months", () => {
    const events = Array.from({ length: 120 }, (_, index) => trackedEvent({ timestamp: new Date(Date.UTC(2024, index % 24, 15)).toISOString() }));
    const messages = packMessages(request, events, 2 * 1024);
    for (const message of messages) {
      const { header, rows } = decodeMessage(message.body);
      expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(2 * 1024);
      expect(header.months).toEqual([...new Set(rows.map((row) => `${row.timestamp?.slice(0, 7)}-01`))].sort());
    }
  });
});

describe('queued rows', () => {
  it('carry every field of an event, NULLs as \\N', () => {
    const event = trackedEvent({ label: null, value: 2.5, userId: null, sessionId: 's-1', properties: { plan: 'pro' }, metadata: { severity: 'LOW' } });
    const [row] = decodeRows(queuedRow(event, 'user:1', 'req-1'));
    expect(row).toEqual({
      eventId: event.eventId, timestamp: event.timestamp, type: 'CUSTOM', category: 'test', action: 'run', label: null, value: '2.5',
      userId: null, sessionId: 's-1', properties: '{"plan":"pro"}', context: '{}', metadata: '{"severity":"LOW"}',
      receivedAt: event.receivedAt, actor: 'user:1', requestId: 'req-1',
    });
  });

  it('keep any text exactly, with no character a COPY row or an SQS body cannot hold raw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }).filter((text) => text.isWellFormed() && !text.includes('\u0000')), (text) => {
        const line = queuedRow(trackedEvent({ category: text, label: `\\N${text}`, properties: { [text]: text } }), text, text);
        expect(line.slice(0, -1)).not.toMatch(/[\n\r]/);
        expect(line).not.toMatch(NOT_FOR_SQS);
        expect(line.split('\t')).toHaveLength(15);
        const [row] = decodeRows(line);
        expect([row?.category, row?.label, row?.actor, JSON.parse(row?.properties ?? '{}')]).toEqual([text, `\\N${text}`, text, { [text]: text }]);
      }),
    );
  });

  it('write JSON exactly as copyText writes its serialisation, for any JSON value and any text in it', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        expect(copyJson(value)).toBe(copyText(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
    expect(copyJson({ 'a\\b': 'line\nbreak\u0001' })).toBe(copyText(JSON.stringify({ 'a\\b': 'line\nbreak\u0001' })));
  });

  it('escape backslashes, tabs, line breaks and control characters', () => {
    expect(copyText('a\\b\tc\nd\re\u0001f\\.')).toBe('a\\\\b\\tc\\nd\\re\\x01f\\\\.');
    expect(copyText(null)).toBe('\\N');
    expect(copyText('\\N')).toBe('\\\\N');
  });
});

describe('countEventTypes', () => {
  it('counts the events of each type in message bodies, whatever text their other fields hold', () => {
    const anEvent = fc.record({ type: fc.constantFrom(...EventTypeEnum.options), text: fc.string({ unit: 'binary' }).filter((text) => text.isWellFormed() && !text.includes('\u0000')) });
    fc.assert(
      fc.property(fc.array(fc.array(anEvent, { minLength: 1, maxLength: 20 }), { maxLength: 4 }), (messages) => {
        const bodies = messages.flatMap((events) =>
          packMessages(request, events.map(({ type, text }) => trackedEvent({ type, category: text, properties: { [text]: text } })), 2 * 1024).map((message) => message.body),
        );
        const expected = new Map<string, number>();
        for (const { type } of messages.flat()) expected.set(type, (expected.get(type) ?? 0) + 1);

        expect(countEventTypes(bodies)).toEqual(expected);
      }),
    );
  });
});
