import { monthsAhead } from './months.js';

const DAY_MS = 86_400_000;

/**
 * An accepted event may reach the writer this long after it was accepted: SQS keeps it 4 days,
 * and a dead letter (whose age counts from its first send) 14 days, replayed at any time. Its
 * partition and its dedupe row stay this long past the retention, so a late delivery neither
 * recreates a dropped month nor is stored twice.
 */
export const LATE_DELIVERY_DAYS = 14;

/** Months of partitions kept ready after the current one: the writer then never creates one. */
export const MONTHS_AHEAD = 3;

export interface RetentionSettings {
  eventRetentionDays: number;
  rollupRetentionDays: number;
  /** Tenants that keep their events for fewer days than `eventRetentionDays`. */
  tenantEventDays?: Readonly<Record<string, number>>;
}

/** The timestamps (epoch ms) whose events a tenant keeps at `now`: its own retention, or everyone's. */
export function retainedRange(settings: RetentionSettings, tenantId: string, now: Date): { from: number; to: number } {
  const days = settings.tenantEventDays?.[tenantId] ?? settings.eventRetentionDays;
  return { from: now.getTime() - days * DAY_MS, to: now.getTime() };
}

/** One tenant's rows of one month, past that tenant's shorter retention. */
export interface TenantPurge {
  tenantId: string;
  /** `YYYY-MM-01`. */
  month: string;
}

export interface MaintenancePlan {
  /** First days (`YYYY-MM-01`) of the partitions that must exist: this month and those ahead. */
  ensureMonths: string[];
  /** Partitions wholly older than any event that is kept or may still arrive, oldest first. */
  expiredMonths: string[];
  /**
   * Per tenant with a shorter retention, oldest month first: the months wholly past it whose
   * partition stays for the others. Its rows go, not the partition, so a late delivery is
   * archived by a later run and needs no grace.
   */
  tenantPurges: TenantPurge[];
  /** Events before this instant are past the retention and every late delivery. */
  eventCutoff: Date;
  /** Rollup periods starting before this UTC midnight are past the rollup retention. */
  rollupCutoff: Date;
  /** Dedupe rows of events before this instant can no longer stop a repeat: none can arrive. */
  dedupeCutoff: Date;
}

/** The instant a month (`YYYY-MM-01`) and its partition end: the next month's first. */
export const monthEnd = (month: string): Date => {
  const first = new Date(`${month}T00:00:00Z`);
  return new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1));
};

const utcMidnight = (instant: Date): Date => new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));

/**
 * What one maintenance run does at `now`, given the months that have a partition table (attached
 * or not). A month is expired once its last instant is before the event cut-off; the rollup
 * cut-off is a UTC midnight so that no day row is cut in half.
 */
export function planMaintenance(now: Date, partitionMonths: readonly string[], settings: RetentionSettings): MaintenancePlan {
  const eventCutoff = new Date(now.getTime() - (settings.eventRetentionDays + LATE_DELIVERY_DAYS) * DAY_MS);
  const months = [...new Set(partitionMonths)].sort();
  const expiredMonths = months.filter((month) => monthEnd(month) <= eventCutoff);
  const keptMonths = months.filter((month) => !expiredMonths.includes(month));
  const tenantPurges = Object.entries(settings.tenantEventDays ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([tenantId, days]) => {
      const tenantCutoff = new Date(now.getTime() - days * DAY_MS);
      return keptMonths.filter((month) => monthEnd(month) <= tenantCutoff).map((month) => ({ tenantId, month }));
    });
  return {
    ensureMonths: monthsAhead(now, MONTHS_AHEAD),
    expiredMonths,
    tenantPurges,
    eventCutoff,
    rollupCutoff: utcMidnight(new Date(now.getTime() - settings.rollupRetentionDays * DAY_MS)),
    dedupeCutoff: eventCutoff,
  };
}
