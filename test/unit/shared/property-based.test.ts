import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Params, whereClauses } from '../../../lambdas/shared/adapters/pg/event-filter-sql.js';
import { AnalyticsEventSchema, isPlainObject, jsonBytesAtMost, TrackedEventSchema } from '../../../lambdas/shared/domain/event-schemas.js';
import { DEFAULT_PII_POLICY, maskJson, maskText } from '../../../lambdas/shared/domain/pii-masking.js';
import { prepareEvent, prepareValidEvent } from '../../../lambdas/shared/domain/prepare-event.js';
import { EventQuerySchema } from '../../../lambdas/shared/domain/query-schemas.js';
import { mapSegmentMessage, readSegmentMessage, SEGMENT_CALLS, SegmentMessageSchema } from '../../../lambdas/shared/domain/segment-messages.js';
import { callerForWriteKey, hashWriteKey, newWriteKey, writeKeyId } from '../../../lambdas/shared/domain/write-keys.js';
import { TENANT_A } from '../../support/factories.js';

const context = { receivedAt: new Date('2026-06-01T12:00:00Z'), piiPolicy: DEFAULT_PII_POLICY, retentionDays: 90, newEventId: () => '00000000-0000-4000-8000-000000000001' };

/** Strings that hurt: quotes, SQL, JSON operators, NUL, lone surrogates, prototype keys. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.constantFrom("'", '"', ';', '--', '->>', '#>', '$1', '\\', '\u0000', '\ud800', '__proto__', 'constructor', "'); DROP TABLE analytics_events; --"),
  fc.string().map((text) => `${text}@example.com`),
);
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, hostileString, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(hostileString, tie('value'), { maxKeys: 4 })),
})).value;

/** An event that is valid but for the generated parts. */
const eventLike = fc.record(
  {
    type: fc.constantFrom('USER_ACTION', 'CUSTOM', 'ERROR', 'PERFORMANCE', 'BUSINESS', 'SECURITY', 'SYSTEM_EVENT', 'NOPE'),
    category: hostileString,
    action: hostileString,
    label: hostileString,
    value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), hostileString),
    sessionId: hostileString,
    properties: fc.dictionary(hostileString, hostileJson, { maxKeys: 6 }),
  },
  { requiredKeys: ['type', 'category', 'action'] },
);

describe('validation and masking, for any input', () => {
  it('prepareEvent never throws, and what it accepts is a valid queued event', () => {
    fc.assert(
      fc.property(fc.oneof(eventLike, hostileJson), (raw) => {
        const outcome = prepareEvent(raw, context);
        if (outcome.ok) {
          expect(TrackedEventSchema.safeParse(JSON.parse(JSON.stringify(outcome.event))).success).toBe(true);
        } else {
          expect(outcome.issues.length).toBeGreaterThan(0);
          for (const issue of outcome.issues) expect(typeof issue.path).toBe('string');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('masking never throws, keeps every key, and masking twice changes nothing more', () => {
    fc.assert(
      fc.property(fc.dictionary(hostileString, hostileJson, { maxKeys: 6 }), (properties) => {
        const once = maskJson(properties, DEFAULT_PII_POLICY) as Record<string, unknown>;
        expect(Object.keys(once)).toEqual(Object.keys(properties));
        expect(JSON.stringify(maskJson(once, DEFAULT_PII_POLICY))).toBe(JSON.stringify(once));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves no e-mail address in any accepted property value', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.string(), (email, around) => {
        const outcome = prepareEvent({ type: 'CUSTOM', category: 'c', action: 'a', properties: { note: `${around} ${email} ${around}` } }, context);
        if (outcome.ok) expect(JSON.stringify(outcome.event.properties)).not.toContain(email);
        expect(maskText(email, DEFAULT_PII_POLICY)).toBe('[email]');
      }),
      { numRuns: 300 },
    );
  });

  it('leaves no valid IBAN readable, whatever surrounds it, spaced or compact, in any case', () => {
    const lengths = { DE: 22, GB: 22, FR: 27, NL: 18, NO: 15 } as const;
    const iban = fc
      .record({ country: fc.constantFrom(...(Object.keys(lengths) as Array<keyof typeof lengths>)), seed: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 30, maxLength: 30 }) })
      .map(({ country, seed }) => {
        const account = seed.slice(0, lengths[country] - 4).join('');
        // Check digits: 98 minus the remainder of account + country + 00 (ISO 13616).
        const numeric = `${account}${[...country].map((letter) => letter.charCodeAt(0) - 55).join('')}00`;
        const remainder = [...numeric].reduce((sum, digit) => (sum * 10 + Number(digit)) % 97, 0);
        return { account, text: `${country}${String(98 - remainder).padStart(2, '0')}${account}` };
      });
    fc.assert(
      fc.property(iban, hostileString, hostileString, fc.boolean(), fc.boolean(), ({ account, text }, before, after, spaced, lower) => {
        const printed = spaced ? text.replace(/(.{4})/g, '$1 ').trim() : text;
        const masked = maskText(`${before} ${lower ? printed.toLowerCase() : printed} ${after}`, DEFAULT_PII_POLICY);
        expect(masked.replace(/[ -]/g, '')).not.toContain(account);
      }),
      { numRuns: 400 },
    );
  });

  it('bounds the serialised size of any JSON from above', () => {
    const text = fc.oneof(hostileString, fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom('\u0001', '\u001f', '"', '\\', '\u2028', '😀', 'é') }));
    const json = fc.letrec((tie) => ({ value: fc.oneof({ depthSize: 'small' }, text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(text, tie('value'), { maxKeys: 4 })) })).value;
    fc.assert(
      fc.property(json, (value) => {
        expect(jsonBytesAtMost(value)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(value)));
      }),
      { numRuns: 1000 },
    );
    expect(jsonBytesAtMost([-2.2250738585072014e-308, 5e-324, -1.7976931348623157e308])).toBeGreaterThanOrEqual(JSON.stringify([-2.2250738585072014e-308, 5e-324, -1.7976931348623157e308]).length);
  });

  it('validates any JSON without throwing', () => {
    fc.assert(fc.property(hostileJson, (raw) => void AnalyticsEventSchema.safeParse(raw)), { numRuns: 300 });
  });
});

describe('the property-filter builder, for any filter', () => {
  it('puts no byte of a key or value into the SQL text: only $n placeholders', () => {
    fc.assert(
      fc.property(fc.dictionary(hostileString.filter((key) => key.length > 0), hostileJson, { minKeys: 1, maxKeys: 5 }), (properties) => {
        const query = EventQuerySchema.safeParse({ startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-02T00:00:00Z', properties });
        if (!query.success) return;
        const params = new Params();
        const sql = whereClauses(params, TENANT_A, query.data).join(' AND ');
        // What remains once the placeholders are removed is the fixed vocabulary of the builder.
        const skeleton = sql.replace(/\$\d+(::[a-z\[\]]+)?/g, '?');
        expect(skeleton).toMatch(/^[a-z_ ?>=<@#(),AND]*$/);
        expect(params.values).toContain(JSON.stringify(query.data.properties));
      }),
      { numRuns: 400 },
    );
  });
});

describe('write keys, for any presented token', () => {
  it('never throw, and pass only with the exact key', () => {
    const { keyId, key } = newWriteKey();
    const record = { keyId, tenantId: TENANT_A, name: 'k', keyHash: hashWriteKey(key), createdAt: '2026-11-26T00:00:00Z', createdBy: 'admin' };
    const presented = fc.oneof(hostileString, fc.string().map((tail) => `wk_${keyId}_${tail}`), fc.nat({ max: key.length - 1 }).map((cut) => key.slice(0, cut)));
    fc.assert(
      fc.property(presented, (token) => {
        const id = writeKeyId(token);
        expect(id === undefined || /^[0-9a-f]{16}$/.test(id)).toBe(true);
        expect(callerForWriteKey(token, record)).toBeUndefined();
      }),
      { numRuns: 400 },
    );
    expect(callerForWriteKey(key, record)?.tenantId).toBe(TENANT_A);
  });
});

/** Strings about the length limits of our text fields (64, 100, 255) and of a messageId (100). */
const longString = fc.oneof(fc.string({ minLength: 60, maxLength: 300 }), fc.constantFrom(64, 65, 100, 101, 255, 256).map((length) => 'x'.repeat(length)));
const segmentText = fc.oneof(hostileString, longString, fc.constantFrom(null, 42, true, 'AB6C1F5E-1111-4111-8111-111111111111', 'ab6c1f5e-1111-4111-8111-111111111111'));
const segmentTime = fc.oneof(fc.constantFrom('2026-05-31T12:00:00Z', '2026-05-31T12:00:00.123+02:00', '2026-05-31 12:00:00', '2026-02-30T00:00:00Z', '', 7), hostileString);
const segmentObject = fc.oneof({ weight: 3, arbitrary: fc.dictionary(fc.oneof(hostileString, fc.constantFrom('category', 'label', 'name', 'value', 'revenue', 'eventType', 'currency')), hostileJson, { maxKeys: 6 }) }, hostileJson);
const segmentContext = fc.oneof(
  segmentObject,
  fc.record({ ip: segmentText, userAgent: segmentText, locale: segmentText, timezone: segmentText, page: fc.record({ url: segmentText, path: segmentText, referrer: segmentText }), os: fc.record({ name: segmentText }), device: fc.record({ type: fc.oneof(segmentText, fc.constantFrom('mobile', 'tv')) }), traits: segmentObject }, { requiredKeys: [] }),
);
/** Any value a Segment field might hold, most of them wrong. */
const segmentLike = fc.record(
  {
    type: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...SEGMENT_CALLS) }, segmentText),
    messageId: segmentText,
    userId: segmentText,
    anonymousId: segmentText,
    event: segmentText,
    name: segmentText,
    category: segmentText,
    properties: segmentObject,
    traits: segmentObject,
    context: segmentContext,
    integrations: segmentObject,
    groupId: fc.oneof(segmentText, fc.double()),
    previousId: fc.oneof(segmentText, fc.double()),
    timestamp: segmentTime,
    originalTimestamp: segmentTime,
    sentAt: segmentTime,
    _metadata: hostileJson,
  },
  { requiredKeys: [] },
);
/** Mostly plain text, sometimes hostile or long: a message that the Segment check lets through, for our own checks to judge. */
const ourText = fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) }, hostileString.filter((text) => text.length > 0), longString);
const ourProperties = fc.dictionary(fc.oneof(fc.constantFrom('category', 'label', 'name', 'value', 'revenue', 'eventType', 'currency'), hostileString), fc.oneof(ourText, fc.double(), fc.constantFrom('ERROR', 'PERFORMANCE', 'BUSINESS', 'EUR'), hostileJson), { maxKeys: 5 });
const wellFormedSegment = fc.record(
  {
    type: fc.constantFrom(...SEGMENT_CALLS),
    messageId: fc.string({ minLength: 1, maxLength: 100 }),
    userId: ourText,
    anonymousId: ourText,
    event: ourText,
    name: ourText,
    category: ourText,
    properties: ourProperties,
    traits: ourProperties,
    context: fc.record({ ip: ourText, userAgent: ourText, locale: ourText, page: fc.record({ url: ourText, referrer: ourText }), traits: ourProperties }, { requiredKeys: [] }),
    timestamp: fc.constantFrom('2026-05-31T12:00:00Z', '2026-06-01T11:59:00.5+01:00', '2025-01-01T00:00:00Z'),
  },
  { requiredKeys: ['type'] },
);
const anySegmentMessage = fc.oneof({ weight: 4, arbitrary: wellFormedSegment }, { weight: 3, arbitrary: segmentLike }, hostileJson);

describe('the Segment mapping, for any message', () => {
  it('reads a message exactly as SegmentMessageSchema, the documented shape, accepts it, naming the same fields', () => {
    fc.assert(
      fc.property(anySegmentMessage, (raw) => {
        const read = readSegmentMessage(raw);
        const parsed = SegmentMessageSchema.safeParse(raw);
        expect(read.ok).toBe(parsed.success);
        if (!read.ok && !parsed.success) {
          expect(new Set(read.issues.map((issue) => issue.path))).toEqual(new Set(parsed.error.issues.map((issue) => issue.path.join('.'))));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws, and what it accepts AnalyticsEventSchema accepts unchanged and prepares into a valid queued event', () => {
    fc.assert(
      fc.property(anySegmentMessage, fc.option(segmentContext, { nil: undefined }), (raw, batchContext) => {
        const outcome = mapSegmentMessage(raw, TENANT_A, isPlainObject(batchContext) ? { context: batchContext } : {});
        if (!outcome.ok) {
          expect(outcome.issues.length).toBeGreaterThan(0);
          return;
        }
        const { event, sentAt } = outcome.mapped;
        const parsed = AnalyticsEventSchema.safeParse(event);
        expect(parsed.success ? parsed.data : parsed.error.issues).toEqual(event);
        const prepared = prepareValidEvent(event, { ...context, sentAt });
        if (prepared.ok) expect(TrackedEventSchema.safeParse(JSON.parse(JSON.stringify(prepared.event))).success).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
