import { describe, expect, it } from 'vitest';
import { propertyFilter } from '../../../web/src/filters.js';
import { change, fromLocalInput, granularityFor, rangeOf, toLocalInput } from '../../../web/src/time.js';

describe('the dashboard: wall times in a zone', () => {
  it('reads a wall time in the chosen zone, summer and winter alike', () => {
    expect(new Date(fromLocalInput('2026-07-01T12:00', 'Europe/Paris')).toISOString()).toBe('2026-07-01T10:00:00.000Z');
    expect(new Date(fromLocalInput('2026-12-01T12:00', 'Europe/Paris')).toISOString()).toBe('2026-12-01T11:00:00.000Z');
    expect(new Date(fromLocalInput('2026-12-01T12:00', 'Asia/Kolkata')).toISOString()).toBe('2026-12-01T06:30:00.000Z');
  });

  it('writes an instant back as the same wall time', () => {
    const instant = Date.parse('2026-03-29T01:30:00Z');
    expect(toLocalInput(instant, 'Europe/Paris')).toBe('2026-03-29T03:30');
    expect(fromLocalInput(toLocalInput(instant, 'America/New_York'), 'America/New_York')).toBe(instant);
  });

  it('refuses what is not a wall time', () => {
    expect(fromLocalInput('yesterday', 'UTC')).toBeNaN();
  });
});

describe('the dashboard: ranges in the URL', () => {
  const now = Date.parse('2026-12-02T00:00:00Z');

  it('ends a period now, or at until when a cursor page pinned it', () => {
    expect(rangeOf(new URLSearchParams('period=7d'), 'UTC', now).start).toBe(now - 7 * 86_400_000);
    const pinned = rangeOf(new URLSearchParams('period=1h&until=2026-11-30T10:00:00.000Z'), 'UTC', now);
    expect(new Date(pinned.end).toISOString()).toBe('2026-11-30T10:00:00.000Z');
  });

  it('takes a custom range in the zone, and falls back to 30 days when it is not a range', () => {
    const custom = rangeOf(new URLSearchParams('period=custom&from=2026-11-01T00:00&to=2026-11-02T00:00'), 'Europe/Paris', now);
    expect(new Date(custom.start).toISOString()).toBe('2026-10-31T23:00:00.000Z');
    const backwards = rangeOf(new URLSearchParams('period=custom&from=2026-11-02T00:00&to=2026-11-01T00:00'), 'UTC', now);
    expect(backwards.end - backwards.start).toBe(30 * 86_400_000);
  });

  it('picks buckets that give a readable chart', () => {
    expect(granularityFor(3_600_000)).toBe('minute');
    expect(granularityFor(7 * 86_400_000)).toBe('hour');
    expect(granularityFor(90 * 86_400_000)).toBe('day');
  });
});

describe('the dashboard: changes and property filters', () => {
  it('states the change against the previous period in words', () => {
    expect(change(150, 100)).toEqual({ text: '+50% vs the previous period', direction: 'up' });
    expect(change(50, 100).direction).toBe('down');
    expect(change(5, 0).text).toBe('none in the previous period');
    expect(change(0, 0).direction).toBe('flat');
  });

  it('reads key=value as JSON when it parses, as text otherwise', () => {
    expect(propertyFilter(['plan=pro', 'tier=2', 'beta=true', 'code="2"', 'a=b=c', '=x', 'no-equals'])).toEqual({ plan: 'pro', tier: 2, beta: true, code: '2', a: 'b=c' });
    expect(propertyFilter([])).toBeUndefined();
  });
});
