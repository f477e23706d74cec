/** Keeps the monthly event partitions ahead of time. */
export interface PartitionMaintenance {
  /** Months as their first day, `YYYY-MM-01`; existing ones are left alone. */
  ensureMonths(months: string[]): Promise<void>;
}
