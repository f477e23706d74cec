import { describe, expect, it } from 'vitest';
import { whilePending } from '../../../../../lambdas/shared/adapters/pg/sql-database.js';

describe('whilePending', () => {
  it('runs the work before the statement is answered, and gives both results', async () => {
    const order: string[] = [];
    const statement = new Promise<string>((resolve) => setTimeout(() => (order.push('answered'), resolve('rows')), 10));
    const result = await whilePending(statement, () => (order.push('worked'), 42));
    expect(result).toEqual(['rows', 42]);
    expect(order).toEqual(['worked', 'answered']);
  });

  it('waits for a failing statement when the work throws, and throws the work\'s error, the rejection handled', async () => {
    let settled = false;
    const statement = new Promise<never>((_, reject) => setTimeout(() => ((settled = true), reject(new Error('statement failed'))), 10));
    await expect(
      whilePending(statement, () => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    // Settled before the error reached the caller, and its rejection taken: vitest fails a run on an unhandled one.
    expect(settled).toBe(true);
  });

  it('throws the statement\'s error when only the statement fails', async () => {
    await expect(whilePending(Promise.reject(new Error('statement failed')), () => 1)).rejects.toThrow('statement failed');
  });
});
