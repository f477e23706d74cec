import { mkdir, open, readFile, rm } from 'node:fs/promises';
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

/**
 * Creates DATA_DIR if needed and takes its lock file (`DATA_DIR/lock`, holding the owner's
 * pid). A lock left by a process that is gone (killed, or a container restarted: its pid may
 * now be ours) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
    }
    const owner = await ownerOf(file);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw new DataDirInUseError(resolve(dataDir), owner);
    await rm(file, { force: true });
  }
  throw new Error(`Could not take the lock file ${file}.`);
}
