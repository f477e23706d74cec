import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** A second process on the same DATA_DIR: PGlite and dynalite would both corrupt their files. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(`DATA_DIR ${dataDir} is in use by another event tracker (pid ${ownerPid}). Stop that one first, or set DATA_DIR to another folder.`);
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

async function ownerOf(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

const isCode = (error: unknown, code: string): boolean => error instanceof Error && 'code' in error && error.code === code;

/**
 * Creates DATA_DIR if needed and takes its lock file (`DATA_DIR/lock`, holding the owner's
 * pid). The pid is written to a file of our own first and then hard-linked as the lock, which
 * either fails or publishes a complete file: nobody ever reads an empty lock. A lock left by a
 * process that is gone (killed, or a container restarted: its pid may now be ours) is taken
 * over. Two processes taking over the same stale lock at the same instant remain a race this
 * does not close; a data folder is one developer's.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'lock');
  const mine = join(dataDir, `lock.${process.pid}`);
  await writeFile(mine, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(mine, file);
        return { release: () => rm(file, { force: true }) };
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error;
      }
      const owner = await ownerOf(file);
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw new DataDirInUseError(resolve(dataDir), owner);
      await rm(file, { force: true });
    }
    throw new Error(`Could not take the lock file ${file}.`);
  } finally {
    await rm(mine, { force: true });
  }
}
