import { Database, loadConfig } from '../../lambdas/shared/config.js';

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 50);

/** Benchmarks always run on a real server; DATABASE_URL picks it. */
export const benchServerUrl = (): string => loadConfig({ database: Database }).database.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';
