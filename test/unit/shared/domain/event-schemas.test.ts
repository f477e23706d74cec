import { describe, expect, it } from 'vitest';
import { AnalyticsEventSchema, BatchEnvelopeSchema } from '../../../../lambdas/shared/domain/event-schemas.js';
import { zodIssues } from '../../../../lambdas/shared/domain/zod-issues.js';

const valid = { type: 'USER_ACTION', category: 'nav', action: 'click', userId: '6f1c1b3e-8d4f-4a53-9b8e-2a7d7f1b2c3d' };

function issuesOf(input: unknown) {
  const result = AnalyticsEventSchema.safeParse(input);
  return result.success ? [] : zodIssues(result.error);
}

describe('AnalyticsEventSchema', () => {
  it('accepts the minimal event and defaults properties to {}', () => {
    const parsed = AnalyticsEventSchema.parse(valid);
    expect(parsed.properties).toEqual({});
  });

  it('names every bad field at once', () => {
    const paths = issuesOf({ type: 'NOPE', category: '', action: 42, value: 'x', userId: 'nope', context: { ipAddress: '999.1.1.1' } }).map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['type', 'category', 'action', 'value', 'userId', 'context.ipAddress']));
  });

  it('names unknown fields instead of dropping them', () => {
    expect(issuesOf({ ...valid, colour: 'red', context: { shoeSize: 9 } })).toEqual(
      expect.arrayContaining([
        { path: 'colour', message: 'is not a known field' },
        { path: 'context.shoeSize', message: 'is not a known field' },
      ]),
    );
  });

  it('enforces the specification limits', () => {
    expect(issuesOf({ ...valid, category: 'c'.repeat(101) })[0]?.path).toBe('category');
    expect(issuesOf({ ...valid, label: 'l'.repeat(256) })[0]?.path).toBe('label');
    expect(issuesOf({ ...valid, sessionId: 's'.repeat(65) })[0]?.path).toBe('sessionId');
    expect(issuesOf({ ...valid, category: 'c'.repeat(100) })).toEqual([]);
  });

  it('refuses NUL characters and lone surrogates, which Postgres cannot store', () => {
    expect(issuesOf({ ...valid, action: 'a\u0000b' })[0]?.path).toBe('action');
    expect(issuesOf({ ...valid, label: '\ud800' })[0]?.path).toBe('label');
    expect(issuesOf({ ...valid, properties: { nested: ['ok', 'bad\u0000'] } })[0]?.path).toBe('properties.nested.1');
    expect(issuesOf({ ...valid, properties: { ['k\u0000']: 1 } })[0]?.path).toBe('properties');
  });

  it('refuses numbers past the largest double anywhere in properties, naming where', () => {
    const parsed = JSON.parse('{"top":1e400,"deep":{"list":[1,-1e999]}}');
    expect(issuesOf({ ...valid, properties: { top: parsed.top } })).toEqual([{ path: 'properties.top', message: 'is not a finite number' }]);
    expect(issuesOf({ ...valid, properties: { deep: parsed.deep } })).toEqual([{ path: 'properties.deep.list.1', message: 'is not a finite number' }]);
    expect(issuesOf({ ...valid, value: Infinity })[0]?.path).toBe('value');
  });

  it('keeps hostile property keys as data', () => {
    const parsed = AnalyticsEventSchema.parse(JSON.parse(`{"type":"CUSTOM","category":"c","action":"a","properties":{"__proto__":{"x":1},"'; DROP TABLE analytics_events; --":1,"a->>b":2}}`));
    expect(Object.keys(parsed.properties)).toEqual(['__proto__', "'; DROP TABLE analytics_events; --", 'a->>b']);
  });

  it('refuses properties nested deeper than the limit', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 10; level++) deep = { level: deep };
    expect(issuesOf({ ...valid, properties: { deep } })[0]?.message).toMatch(/nesting deeper/);
  });

  it('refuses more than 256 property keys, nested ones counted', () => {
    const flat = Object.fromEntries(Array.from({ length: 256 }, (_, index) => [`k${index}`, index]));
    expect(issuesOf({ ...valid, properties: flat })).toEqual([]);
    expect(issuesOf({ ...valid, properties: { ...flat, nested: { one: 1 } } })[0]?.message).toMatch(/more than 256 keys/);
  });

  it('refuses non-object properties and non-ISO timestamps', () => {
    expect(issuesOf({ ...valid, properties: [1, 2] })[0]?.path).toBe('properties');
    expect(issuesOf({ ...valid, timestamp: 'yesterday' })[0]?.path).toBe('timestamp');
    expect(issuesOf({ ...valid, timestamp: '2026-01-01T10:00:00+02:00' })).toEqual([]);
  });
});

describe('BatchEnvelopeSchema', () => {
  it('takes 1 to 1000 events', () => {
    expect(BatchEnvelopeSchema.safeParse({ events: [] }).success).toBe(false);
    expect(BatchEnvelopeSchema.safeParse({ events: Array(1001).fill({}) }).success).toBe(false);
    expect(BatchEnvelopeSchema.safeParse({ events: Array(1000).fill({}) }).success).toBe(true);
  });
});
