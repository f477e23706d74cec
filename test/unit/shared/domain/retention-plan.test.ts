import { describe, expect, it } from 'vitest';
import { LATE_DELIVERY_DAYS, planMaintenance } from '../../../../lambdas/shared/domain/retention-plan.js';

const SETTINGS = { eventRetentionDays: 90, rollupRetentionDays: 365 };

describe('planMaintenance', () => {
  it('keeps this month and the three after it', () => {
    const plan = planMaintenance(new Date('2026-11-20T10:00:00Z'), [], SETTINGS);

    expect(plan.ensureMonths).toEqual(['2026-11-01', '2026-12-01', '2027-01-01', '2027-02-01']);
  });

  it('expires a month only once its last instant is past the retention and every late delivery', () => {
    // 2026-06-15 - (90 + 14) days = 2026-03-03 12:00: February ended before it, March did not.
    const plan = planMaintenance(new Date('2026-06-15T12:00:00Z'), ['2026-03-01', '2026-01-01', '2026-02-01', '2026-06-01'], SETTINGS);

    expect(plan.expiredMonths).toEqual(['2026-01-01', '2026-02-01']);
    expect(plan.eventCutoff.toISOString()).toBe('2026-03-03T12:00:00.000Z');
  });

  it('expires a month on the instant its end reaches the cut-off, not before', () => {
    const days = SETTINGS.eventRetentionDays + LATE_DELIVERY_DAYS;
    const endOfJanuary = Date.parse('2026-02-01T00:00:00Z');

    expect(planMaintenance(new Date(endOfJanuary + days * 86_400_000 - 1), ['2026-01-01'], SETTINGS).expiredMonths).toEqual([]);
    expect(planMaintenance(new Date(endOfJanuary + days * 86_400_000), ['2026-01-01'], SETTINGS).expiredMonths).toEqual(['2026-01-01']);
  });

  it('cuts rollups at a UTC midnight, so no day row is cut in half', () => {
    const plan = planMaintenance(new Date('2026-06-15T12:34:56Z'), [], SETTINGS);

    expect(plan.rollupCutoff.toISOString()).toBe('2025-06-15T00:00:00.000Z');
  });

  it('keeps dedupe rows as long as an event of theirs may still be delivered', () => {
    const plan = planMaintenance(new Date('2026-06-15T12:00:00Z'), [], SETTINGS);

    expect(plan.dedupeCutoff).toEqual(plan.eventCutoff);
  });

  it('purges a shorter-retention tenant month by month once each month is wholly past its days, leaving months the partition drop takes', () => {
    const tenant = '11111111-1111-4111-8111-111111111111';
    // 2026-06-15 - 30 days = 2026-05-16 12:00: April ended before it, May did not; January and February expire for everyone.
    const plan = planMaintenance(new Date('2026-06-15T12:00:00Z'), ['2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01', '2026-05-01', '2026-06-01'], {
      ...SETTINGS,
      tenantEventDays: { [tenant]: 30 },
    });

    expect(plan.tenantPurges).toEqual([
      { tenantId: tenant, month: '2026-03-01' },
      { tenantId: tenant, month: '2026-04-01' },
    ]);
  });

  it('purges no tenant rows when no tenant has a shorter retention', () => {
    expect(planMaintenance(new Date('2026-06-15T12:00:00Z'), ['2026-04-01'], SETTINGS).tenantPurges).toEqual([]);
  });
});
