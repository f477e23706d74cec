import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgMessageQueue } from '../../../../../lambdas/shared/adapters/pg/pg-message-queue.js';
import { createTestDatabase, type TestDatabase } from '../../../../support/test-database.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await testDb.drop();
});

interface BodyColumn {
  lz4: boolean;
  storage: string;
  compression: string;
}

const bodyColumn = async (): Promise<BodyColumn> => {
  const [column] = await testDb.db.query<BodyColumn>(
    `SELECT 'lz4' = ANY(s.enumvals) AS lz4, a.attstorage AS storage, a.attcompression AS compression
     FROM pg_settings s, pg_attribute a
     WHERE s.name = 'default_toast_compression' AND a.attrelid = 'local_queue.messages'::regclass AND a.attname = 'body'`,
  );
  if (!column) throw new Error('no body column');
  return column;
};

describe('PgMessageQueue storage of bodies', () => {
  it('keeps bodies lz4-compressed where Postgres has lz4 and uncompressed where not, however often the queue is opened', async () => {
    // Every process of the local runtime opens the queue: the HTTP side and the writer thread.
    await PgMessageQueue.open(testDb.db);
    await PgMessageQueue.open(testDb.db);
    const column = await bodyColumn();
    expect(column.lz4 ? [column.storage, column.compression] : [column.storage]).toEqual(column.lz4 ? ['x', 'l'] : ['e']);

    const queue = await PgMessageQueue.open(testDb.db);
    const body = JSON.stringify(Array.from({ length: 2000 }, (_, index) => ({ type: 'USER_ACTION', category: 'cart', action: 'Product Added', index })));
    expect((await queue.enqueue([{ body, eventIds: [] }])).failed).toEqual([]);
    const [stored] = await testDb.db.query<{ size: number; length: number }>('SELECT pg_column_size(body) AS size, octet_length(body) AS length FROM local_queue.messages');
    if (column.lz4) expect(stored?.size).toBeLessThan((stored?.length ?? 0) / 4);
    else expect(stored?.size).toBeGreaterThanOrEqual(stored?.length ?? Infinity);
  });

  it('opens again without altering the table, so a process holding it open never blocks the next', async () => {
    if (!testDb.url) return; // PGlite has one connection: no other session can hold the table.
    await PgMessageQueue.open(testDb.db);
    const other = new pg.Client({ connectionString: testDb.url });
    await other.connect();
    try {
      // Any reader's lock: an ALTER TABLE would wait for it until the transaction ends.
      await other.query('BEGIN');
      await other.query('LOCK TABLE local_queue.messages IN ACCESS SHARE MODE');
      const blocked = new Promise<string>((resolve) => setTimeout(() => resolve('blocked'), 20_000).unref());
      expect(await Promise.race([PgMessageQueue.open(testDb.db).then(() => 'opened'), blocked])).toBe('opened');
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
  });
});
