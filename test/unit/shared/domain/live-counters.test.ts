import { describe, expect, it } from 'vitest';
import { counterExpiry, fillMinutes, isExpired, liveWindow, LiveCounterQuerySchema, MINUTE_MS, shardOf, windowMinutes } from '../../../../lambdas/shared/domain/live-counters.js';

const at = (iso: string) => Date.parse(iso);

describe('live counter rules', () => {
  it('reads windows in minutes or hours and refuses anything else', () => {
    expect(windowMinutes(LiveCounterQuerySchema.parse({}).window)).toBe(60);
    expect(windowMinutes(LiveCounterQuerySchema.parse({ window: '2h' }).window)).toBe(120);
    for (const window of ['0m', '60', '1.5h', '-5m', '10s', 'PT1H', '']) expect(LiveCounterQuerySchema.safeParse({ window }).success, window).toBe(false);
  });

  it('splits type and category lists, refuses unknown types, and takes an empty list as none', () => {
    expect(LiveCounterQuerySchema.parse({ types: 'ERROR, SECURITY', categories: 'a,b' })).toMatchObject({ types: ['ERROR', 'SECURITY'], categories: ['a', 'b'] });
    expect(LiveCounterQuerySchema.parse({ types: '' }).types).toEqual([]);
    expect(LiveCounterQuerySchema.safeParse({ types: 'ERROR,NOPE' }).success).toBe(false);
  });

  it('ends the window with the current minute', () => {
    expect(liveWindow(at('2030-01-01T10:00:30Z'), 3)).toEqual({ from: at('2030-01-01T09:58:00Z'), to: at('2030-01-01T10:01:00Z') });
  });

  it('fills every minute of each series with a count in the window, in minute, type, category order', () => {
    const window = { from: at('2030-01-01T10:00:00Z'), to: at('2030-01-01T10:03:00Z') };
    const filled = fillMinutes(
      [
        { minute: '2030-01-01T10:01:00.000Z', type: 'ERROR', category: 'b', count: 2 },
        { minute: '2030-01-01T10:02:00.000Z', type: 'CUSTOM', category: 'a', count: 1 },
        { minute: '2030-01-01T09:00:00.000Z', type: 'SECURITY', category: 'old', count: 9 },
      ],
      window,
    );

    expect(filled.map(({ minute, type, count }) => `${minute.slice(11, 16)} ${type} ${count}`)).toEqual([
      '10:00 CUSTOM 0', '10:00 ERROR 0', '10:01 CUSTOM 0', '10:01 ERROR 2', '10:02 CUSTOM 1', '10:02 ERROR 0',
    ]);
  });

  it('picks the shard from the delta id, the same every time', () => {
    const id = '6f1c1b3e-8d4f-4a53-9b8e-2a7d7f1b2c3d';
    expect(shardOf(id, 8)).toBe(shardOf(id, 8));
    expect(shardOf(id, 8)).toBe(Number.parseInt('7f1b2c3d', 16) % 8);
  });

  it('expires a counter the TTL after its period ends, and drops deltas a margin before that', () => {
    const minute = '2030-01-01T10:00:00.000Z';
    expect(counterExpiry(at(minute), 'minute', 6)).toBe((at(minute) + MINUTE_MS + 6 * 3_600_000) / 1000);
    expect(counterExpiry(at(minute), 'hour', 6)).toBe((at(minute) + 7 * 3_600_000) / 1000);
    expect(isExpired({ minute }, at('2030-01-01T15:55:00Z'), 6)).toBe(false);
    expect(isExpired({ minute }, at('2030-01-01T15:56:00Z'), 6)).toBe(true);
  });
});
