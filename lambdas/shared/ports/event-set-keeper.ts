/**
 * Keeps a tenant's event sets (exact unique users and percentiles) current for a range of
 * event timestamps: what the writer does after its commits, and the maintenance job for what
 * the writer left (a kind of set added by a migration, a writer stopped with work pending).
 */
export interface EventSetKeeper {
  /** Rebuilds the stale sets of the settled periods of `touched` (epoch ms), starting none past `deadline`. */
  keepUntil(tenantId: string, touched: { from: number; to: number }, deadline: number): Promise<{ rebuilt: number; finished: boolean }>;
}
