import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from '../../../../../lambdas/shared/adapters/local/data-dir-lock.js';
import { tempDirPerTest } from '../../../../support/temp-dir.js';

/** A pid no process has: past Linux's pid_max of 4,194,304. */
const GONE_PID = 4_194_305;

const root = tempDirPerTest('tracker-lock-');

describe('lockDataDir', () => {
  it('creates a missing DATA_DIR and publishes our pid as its lock, leaving no other file', async () => {
    const dataDir = join(root(), 'a', 'b');

    const lock = await lockDataDir(dataDir);

    expect((await readFile(join(dataDir, 'lock'), 'utf8')).trim()).toBe(String(process.pid));
    expect(await readdir(dataDir)).toEqual(['lock']);
    await lock.release();
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('refuses a DATA_DIR whose lock names a live process, naming it', async () => {
    await writeFile(join(root(), 'lock'), `${process.ppid}\n`);

    const taking = lockDataDir(root());

    await expect(taking).rejects.toBeInstanceOf(DataDirInUseError);
    await expect(taking).rejects.toMatchObject({ ownerPid: process.ppid });
  });

  it('takes over a lock left by a process that is gone', async () => {
    await writeFile(join(root(), 'lock'), `${GONE_PID}\n`);

    const lock = await lockDataDir(root());

    expect((await readFile(join(root(), 'lock'), 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
  });
});
