import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../../lambdas/shared/adapters/jwt/mint-token.js';
import { openDatabase, type SqlDatabase } from '../../../lambdas/shared/adapters/pg/sql-database.js';
import { rollupMismatches } from '../../support/rollup-check.js';
import { groupGone, signalGroup, sleep, startServer, type Server } from '../../support/server-process.js';
import { createServerDatabase, type TestDatabase } from '../../support/test-database.js';

// Proves DESIGN.md's durability promise on the real `npm start` process: whatever the server
// answered as accepted is stored exactly once, rollups included, however it was stopped.
const SECRET = 'durability-test-secret-of-32-characters';
const TENANT = '00000000-0000-4000-8000-0000000000d1';
const BATCH = 250;
const KILLS = 3;
/** A bound that only a broken server reaches; a slow one stays far inside it. */
const STORE_BOUND_MS = 180_000;
const VISIBILITY_TIMEOUT_MS = 2000;
/** Starts after the stops, each delivering what is visible; one is enough unless a machine is very slow. */
const RESTARTS = 5;

interface Stream {
  accepted: Set<string>;
  sent: Set<string>;
}

/** Sends batches from two clients until `stop` resolves; records the ids each 200 accepted. */
async function streamBatches(url: string, token: string, stream: Stream, stop: Promise<unknown>): Promise<void> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const client = async () => {
    while (!stopped) {
      const events = Array.from({ length: BATCH }, (_, index) => ({
        id: randomUUID(),
        type: index % 5 === 0 ? 'PERFORMANCE' : 'USER_ACTION',
        category: `c${index % 3}`,
        action: `a${index % 4}`,
        value: index % 5 === 0 ? index : undefined,
        sessionId: `s-${index % 7}`,
      }));
      for (const event of events) stream.sent.add(event.id);
      try {
        const response = await fetch(`${url}/v1/events/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        });
        if (response.status !== 200) continue;
        const receipt = (await response.json()) as { successful: string[] };
        for (const id of receipt.successful) stream.accepted.add(id);
      } catch {
        // The server died mid-request: nothing of this batch was answered, so nothing is owed.
        await sleep(20);
      }
    }
  };
  await Promise.all([client(), client()]);
}

/** At a random moment after the server has accepted something, however slow the machine. */
async function signalAfterAnAcceptedBatch(stream: Stream, server: Server, signal: NodeJS.Signals, maxDelayMs: number): Promise<void> {
  const acceptedBefore = stream.accepted.size;
  while (stream.accepted.size === acceptedBefore) await sleep(20);
  await sleep(Math.random() * maxDelayMs);
  signalGroup(server, signal);
}

async function storedTotal(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/v1/events/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ startTime: new Date(Date.now() - 86_400_000).toISOString(), endTime: new Date(Date.now() + 60_000).toISOString(), limit: 1 }),
  });
  return response.status === 200 ? ((await response.json()) as { total: number }).total : -1;
}

async function waitUntilStored(url: string, token: string, expected: number): Promise<void> {
  const bound = Date.now() + STORE_BOUND_MS;
  while ((await storedTotal(url, token)) < expected) {
    if (Date.now() > bound) throw new Error(`fewer than ${expected} events stored after ${STORE_BOUND_MS} ms`);
    await sleep(200);
  }
}

interface Variant {
  name: string;
  setUp(): Promise<{ env: NodeJS.ProcessEnv; open(): Promise<SqlDatabase>; tearDown(): Promise<void> }>;
}

const baseEnv = (dataDir: string): NodeJS.ProcessEnv => {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return {
    ...rest,
    DATA_DIR: dataDir,
    PORT: '0',
    JWT_SECRET: SECRET,
    TENANT_RATE_LIMIT_EVENTS: '1000000',
    TENANT_RATE_LIMIT_RPS: '100000',
    // A message whose delivery a kill interrupted comes back after this; the writer's dedupe
    // makes the second delivery harmless. Receives are not the subject here: no dead letters.
    QUEUE_VISIBILITY_TIMEOUT_MS: String(VISIBILITY_TIMEOUT_MS),
    QUEUE_MAX_RECEIVE_COUNT: '1000',
  };
};

const serverUrl = process.env['DATABASE_URL'];
const variants: Variant[] = [
  {
    name: 'PGlite',
    async setUp() {
      const dataDir = await mkdtemp(join(tmpdir(), 'tracker-durability-'));
      return {
        env: baseEnv(dataDir),
        open: async () => openDatabase({ pgliteDataDir: join(dataDir, 'pgdata') }),
        tearDown: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  },
  ...(serverUrl
    ? [{
        name: 'Postgres',
        async setUp() {
          const dataDir = await mkdtemp(join(tmpdir(), 'tracker-durability-'));
          const database: TestDatabase = await createServerDatabase(serverUrl, 'tracker_durability');
          return {
            env: { ...baseEnv(dataDir), DATABASE_URL: database.url },
            open: async () => database.db,
            tearDown: async () => {
              await database.drop();
              await rm(dataDir, { recursive: true, force: true });
            },
          };
        },
      }]
    : []),
];

const running = new Set<Server>();
afterAll(() => {
  for (const server of running) signalGroup(server, 'SIGKILL');
});

describe.each(variants)('the local runtime on $name', (variant) => {
  it('stores every accepted event exactly once across SIGKILLs at random moments and a SIGTERM to the npm process group', async () => {
    // Prepare
    const { env, open, tearDown } = await variant.setUp();
    const token = await mintToken({ secret: SECRET, tenantId: TENANT, subject: 'durability', scopes: ['events:write', 'events:read'] });
    const stream: Stream = { accepted: new Set(), sent: new Set() };
    let db: SqlDatabase | undefined;

    try {
      // Act: kill the server at random moments while two clients stream batches.
      for (let kill = 0; kill < KILLS; kill++) {
        const server = await startServer(env, 'node');
        running.add(server);
        const killed = signalAfterAnAcceptedBatch(stream, server, 'SIGKILL', 1500).then(() => server.exited);
        await streamBatches(server.url, token, stream, killed);
        running.delete(server);
      }
      // Then stop as a container or a terminal does: SIGTERM to every process of `npm start`.
      const last = await startServer(env, 'npm');
      running.add(last);
      const terminated = signalAfterAnAcceptedBatch(stream, last, 'SIGTERM', 1000);
      await streamBatches(last.url, token, stream, terminated);
      await groupGone(last);
      running.delete(last);

      // Restart until the queue is empty: each start delivers what the stops left queued (a
      // delivery a kill interrupted comes back after its visibility timeout).
      const exitCodes: Array<number | null> = [];
      for (let start = 0; start < RESTARTS; start++) {
        const final = await startServer(env, 'node');
        running.add(final);
        await waitUntilStored(final.url, token, stream.accepted.size);
        await sleep(VISIBILITY_TIMEOUT_MS);
        signalGroup(final, 'SIGINT');
        exitCodes.push(await final.exited);
        running.delete(final);
        db = await open();
        const [queued] = await db.query<{ left: number }>('SELECT count(*)::int AS left FROM local_queue.messages');
        if (queued?.left === 0) break;
        if (variant.name === 'PGlite') await db.close();
        db = undefined;
      }

      // Assess: straight from the database the server used.
      db ??= await open();
      const rows = await db.query<{ event_id: string; copies: number }>(
        'SELECT event_id::text, count(*)::int AS copies FROM analytics_events WHERE tenant_id = $1 GROUP BY 1',
        [TENANT],
      );
      const stored = new Map(rows.map((row) => [row.event_id, row.copies]));
      const lost = [...stream.accepted].filter((id) => !stored.has(id));
      const duplicated = rows.filter((row) => row.copies !== 1);
      const unknown = rows.filter((row) => !stream.sent.has(row.event_id));
      const [queue] = await db.query<{ left: number }>('SELECT count(*)::int AS left FROM local_queue.messages');

      if (!/Stopped cleanly/.test(last.output())) console.error(last.output());
      expect(last.output()).toMatch(/Stopped cleanly/);
      expect(exitCodes.every((code) => code === 0)).toBe(true);
      expect(stream.accepted.size).toBeGreaterThan(BATCH * KILLS);
      expect(lost).toEqual([]);
      expect(duplicated).toEqual([]);
      expect(unknown).toEqual([]);
      expect(await rollupMismatches(db)).toEqual([]);
      expect(queue?.left).toBe(0);
    } finally {
      if (db && variant.name === 'PGlite') await db.close();
      await tearDown();
    }
  }, 600_000);
});
