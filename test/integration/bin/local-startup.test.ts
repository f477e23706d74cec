import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../../lambdas/shared/adapters/jwt/mint-token.js';
import { PgMessageQueue } from '../../../lambdas/shared/adapters/pg/pg-message-queue.js';
import { openDatabase } from '../../../lambdas/shared/adapters/pg/sql-database.js';
import { envelope, queueMessage, trackedEvent } from '../../support/factories.js';
import { groupGone, signalGroup, startServer, type Server } from '../../support/server-process.js';

const SECRET = 'startup-test-secret-of-32-characters!!!';
const TENANT = '00000000-0000-4000-8000-0000000000e1';

let root: string;
const running = new Set<Server>();

/** The local runtime's environment on PGlite in `dataDir`, whatever DATABASE_URL the suite has. */
function localEnv(dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return { ...rest, DATA_DIR: dataDir, PORT: '0', JWT_SECRET: SECRET, ...extra };
}

/** A command to its end: exit code and everything it printed. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

async function stopServer(server: Server, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  signalGroup(server, signal);
  await groupGone(server);
  running.delete(server);
  return server.exited;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracker-startup-'));
});

afterAll(async () => {
  for (const server of running) signalGroup(server, 'SIGKILL');
  await rm(root, { recursive: true, force: true });
});

describe('npm start', () => {
  it('creates a DATA_DIR that does not exist yet, and stops with exit code 0 on SIGINT', async () => {
    const dataDir = join(root, 'not', 'there', 'yet');

    const server = await startServer(localEnv(dataDir), 'node');
    running.add(server);
    const exitCode = await stopServer(server, 'SIGINT');

    expect((await stat(join(dataDir, 'pgdata'))).isDirectory()).toBe(true);
    expect(server.output()).toMatch(/SIGINT: finishing requests/);
    expect(exitCode).toBe(0);
  }, 180_000);

  it('drains and exits cleanly when only npm, not its process group, receives SIGTERM', async () => {
    const server = await startServer(localEnv(join(root, 'npm-only')), 'npm');
    running.add(server);

    server.child.kill('SIGTERM');
    await groupGone(server);
    running.delete(server);

    expect(server.output()).toMatch(/Stopped cleanly/);
  }, 180_000);

  it('refuses a DATA_DIR another running server holds, naming its pid, without a stack trace', async () => {
    const dataDir = join(root, 'shared');
    const first = await startServer(localEnv(dataDir), 'node');
    running.add(first);

    const second = await run(['bin/local.ts'], localEnv(dataDir));
    const firstExit = await stopServer(first);

    expect(firstExit).toBe(0);
    expect(second.code).toBe(1);
    expect(second.output).toContain(`is in use by another event tracker (pid ${first.child.pid})`);
    expect(second.output).not.toMatch(/\n\s+at /);
  }, 180_000);

  it('names every bad setting at once, as a message without a stack trace', async () => {
    const result = await run(['bin/local.ts'], localEnv(join(root, 'bad-config'), { CORS_ORIGINS: 'not a url', PORT: 'abc' }));

    expect(result.code).toBe(1);
    expect(result.output).toMatch(/CORS_ORIGINS/);
    expect(result.output).toMatch(/PORT/);
    expect(result.output).not.toMatch(/\n\s+at /);
  }, 180_000);
});

describe('npm run dlq', () => {
  it('lists the dead letters kept across restarts, replays one, and the server then stores its events', async () => {
    // Prepare: a dead letter left in DATA_DIR by an earlier run (received until it died).
    const dataDir = join(root, 'dlq');
    const event = trackedEvent({ category: 'replayed' });
    await mkdir(dataDir, { recursive: true });
    const db = await openDatabase({ pgliteDataDir: join(dataDir, 'pgdata') });
    const queue = await PgMessageQueue.open(db);
    await queue.enqueue([queueMessage(envelope([event], { tenantId: TENANT }))]);
    await queue.receive(1, 0, 1);
    await queue.receive(1, 0, 1);
    const [dead] = await queue.listDeadLetters();
    await db.close();

    // Act
    const listed = await run(['bin/dlq.ts', 'list'], localEnv(dataDir));
    const replayed = await run(['bin/dlq.ts', 'replay', '--id', dead?.messageId ?? ''], localEnv(dataDir));
    const listedAfter = await run(['bin/dlq.ts', 'list'], localEnv(dataDir));
    const server = await startServer(localEnv(dataDir), 'node');
    running.add(server);
    const token = await mintToken({ secret: SECRET, tenantId: TENANT, subject: 'dlq-test', scopes: ['events:read'] });
    let status = 0;
    for (let attempt = 0; attempt < 600 && status !== 200; attempt++) {
      status = (await fetch(`${server.url}/v1/events/${event.eventId}`, { headers: { authorization: `Bearer ${token}` } })).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const whileRunning = await run(['bin/dlq.ts', 'list'], localEnv(dataDir));
    await stopServer(server);

    // Assess
    expect(dead).toBeDefined();
    expect(listed.code).toBe(0);
    expect(listed.output).toContain(dead?.messageId);
    expect(listed.output).toContain(`tenant ${TENANT}`);
    expect(listed.output).toMatch(/1 dead letter\b/);
    expect(replayed.output).toMatch(/1 put back on the queue/);
    expect(listedAfter.output).toMatch(/0 dead letters/);
    expect(status).toBe(200);
    expect(whileRunning.code).toBe(1);
    expect(whileRunning.output).toMatch(/is in use by another event tracker/);
  }, 300_000);

  it('refuses an unknown command with its usage', async () => {
    const result = await run(['bin/dlq.ts', 'purge'], localEnv(join(root, 'usage')));

    expect(result.code).toBe(2);
    expect(result.output).toMatch(/npm run dlq -- list/);
  }, 60_000);
});
