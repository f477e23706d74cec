import { describe, expect, it } from 'vitest';
import { xRange } from '../../../web/src/chart-range.js';

const DAY = 86_400;
const today = Date.parse('2026-12-04T00:00:00Z') / 1000;
const now = today + 2.5 * 3_600;
const span: [number, number] = [(now - 30 * DAY) * 1000, now * 1000];

describe('the dashboard: the time axis of a chart', () => {
  it('spans the period asked for, to the end of the bucket it ends in, when the last events are days before', () => {
    const x = [today - 6 * DAY, today - 3 * DAY, today - DAY];
    expect(xRange(x, DAY, span)(null, x[0] as number, x[2] as number)).toEqual([now - 30 * DAY, today + DAY]);
  });

  it('ends with the bucket the period ends in when that bucket has events', () => {
    const x = [today - 6 * DAY, today];
    expect(xRange(x, DAY, span)(null, x[0] as number, today)).toEqual([now - 30 * DAY, today + DAY]);
  });

  it('ends at the end of the period when that is a bucket boundary', () => {
    const x = [today - 6 * DAY, today - DAY];
    expect(xRange(x, DAY, [(today - 30 * DAY) * 1000, today * 1000])(null, x[0] as number, x[1] as number)[1]).toBe(today);
  });

  it('ends one bucket after the last without a period', () => {
    const x = [today - 6 * DAY, today - DAY];
    expect(xRange(x, DAY, undefined)(null, x[0] as number, x[1] as number)).toEqual([today - 6 * DAY, today]);
  });

  it('starts at the first bucket when it starts before the period (a local midnight)', () => {
    const x = [today - 30 * DAY, today];
    expect(xRange(x, DAY, span)(null, x[0] as number, today)[0]).toBe(today - 30 * DAY);
  });

  it('keeps a selection dragged to zoom', () => {
    const x = [today - 6 * DAY, today];
    expect(xRange(x, DAY, span)(null, today - 5 * DAY, today - 2 * DAY)).toEqual([today - 5 * DAY, today - 2 * DAY]);
  });
});
