import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, readMigrations } from '../../../lambdas/shared/adapters/pg/migrations.js';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { openDatabase } from '../../../lambdas/shared/adapters/pg/sql-database.js';
import { MIGRATIONS_DIR } from '../../../bin/local-runtime/runtime.js';
import { envelope, received, TENANT_A, TENANT_B, trackedEvent } from '../../support/factories.js';

let dataDir: string;
const archiveDir = () => join(dataDir, 'archive');
const tenantFile = (tenantId: string) => join(archiveDir(), 'events', '2026-01', 'run-1', `${tenantId}.jsonl.gz`);
const eventIds = new Map<string, string[]>();

/** The local scripts' environment on PGlite in DATA_DIR, whatever DATABASE_URL the suite has. */
function localEnv(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return { ...rest, DATA_DIR: dataDir };
}

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: localEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

async function restoredRows(): Promise<Array<{ tenant_id: string; event_id: string }>> {
  const db = await openDatabase({ pgliteDataDir: join(dataDir, 'pgdata') });
  try {
    return await db.query(`SELECT tenant_id, event_id FROM archive_2026_01 ORDER BY tenant_id, event_id`);
  } finally {
    await db.close();
  }
}

/**
 * Restores the whole month with tenant B's file as `tamper` leaves it, and what the restore table
 * holds after it (the earlier restore's tenant A); puts the file back.
 */
async function restoreTampered(tamper: (original: Buffer) => Promise<void>) {
  const original = await readFile(tenantFile(TENANT_B));
  await tamper(original);
  try {
    return { restored: await run(['bin/archive-restore.ts', '--month', '2026-01']), rows: await restoredRows() };
  } finally {
    await writeFile(tenantFile(TENANT_B), original);
  }
}

beforeAll(async () => {
  // Prepare: January 2026, long past the 90 days kept, in a DATA_DIR of its own.
  dataDir = await mkdtemp(join(tmpdir(), 'tracker-restore-'));
  const db = await openDatabase({ pgliteDataDir: join(dataDir, 'pgdata') });
  await applyMigrations(db, await readMigrations(MIGRATIONS_DIR));
  const store = new PgEventStore(db);
  for (const [tenantId, count] of [[TENANT_A, 2], [TENANT_B, 3]] as const) {
    const events = Array.from({ length: count }, (_, day) => trackedEvent({ timestamp: `2026-01-0${day + 1}T10:00:00.000Z`, receivedAt: '2026-01-05T10:00:00.000Z' }));
    await store.writeMessages([received(envelope(events, { tenantId }))]);
    eventIds.set(tenantId, events.map((event) => event.eventId).sort());
  }
  await db.close();
}, 120_000);

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm run maintenance and npm run archive:restore', () => {
  it('archives the expired month, then loads one tenant of it back into a table', async () => {
    const maintained = await run(['bin/maintenance.ts']);
    const restored = await run(['bin/archive-restore.ts', '--month', '2026-01', '--tenant', TENANT_A]);

    expect(maintained.output).toContain('Archived 2026-01: 5 events of 2 tenant(s), run 1');
    expect(maintained.code).toBe(0);
    expect(restored.output).toContain('Loaded 2 events of 1 tenant(s) (run 1) into archive_2026_01');
    expect(restored.code).toBe(0);
    expect(await restoredRows()).toEqual((eventIds.get(TENANT_A) ?? []).map((eventId) => ({ tenant_id: TENANT_A, event_id: eventId })));
  }, 120_000);

  it('refuses an archive with a changed line and loads nothing', async () => {
    const { restored, rows } = await restoreTampered((original) => writeFile(tenantFile(TENANT_B), gzipSync(gunzipSync(original).toString('utf8').replace('"category":"test"', '"category":"TEST"'))));

    expect(restored.output).toMatch(new RegExp(`${TENANT_B}\\.jsonl\\.gz does not match its manifest: 3 rows, sha256 [0-9a-f]{64}; the manifest says 3 rows`));
    expect(restored.output).toContain('Nothing was loaded');
    expect(restored.code).toBe(1);
    expect(rows.map((row) => row.tenant_id)).toEqual([TENANT_A, TENANT_A]);
  }, 120_000);

  it('refuses an archive with a file missing and loads nothing', async () => {
    const { restored, rows } = await restoreTampered(() => rm(tenantFile(TENANT_B)));

    expect(restored.output).toContain(`events/2026-01/run-1/${TENANT_B}.jsonl.gz is missing, and its manifest lists it; nothing was loaded`);
    expect(restored.code).toBe(1);
    expect(rows.map((row) => row.tenant_id)).toEqual([TENANT_A, TENANT_A]);
  }, 120_000);

  it('names the argument that is wrong', async () => {
    const restored = await run(['bin/archive-restore.ts', '--month', 'January']);

    expect(restored.output).toContain('--month: a month as YYYY-MM is required');
    expect(restored.code).toBe(2);
  }, 60_000);
});
