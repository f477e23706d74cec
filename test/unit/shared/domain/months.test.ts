import { describe, expect, it } from 'vitest';
import { monthOf, monthsAhead } from '../../../../lambdas/shared/domain/months.js';

describe('monthsAhead', () => {
  it('lists this month and the next ones across a year end, in UTC', () => {
    expect(monthsAhead(new Date('2026-11-30T23:30:00-05:00'), 2)).toEqual(['2026-12-01', '2027-01-01', '2027-02-01']);
  });
});

describe('monthOf', () => {
  it('takes the UTC month of a timestamp with an offset', () => {
    expect(monthOf('2026-03-01T00:30:00+02:00')).toBe('2026-02-01');
  });
});
