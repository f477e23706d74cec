import fc from 'fast-check';
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

  it('reads the same month off a UTC timestamp as Date does', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        const iso = date.toISOString();
        expect(monthOf(iso)).toBe(`${iso.slice(0, 7)}-01`);
        expect(monthOf(iso.replace(/\.\d{3}Z$/, 'Z'))).toBe(`${new Date(iso).toISOString().slice(0, 7)}-01`);
      }),
    );
  });
});
