import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { ArchiveObjectMissingError, type EventArchive } from '../../ports/event-archive.js';

/**
 * The archive in a folder (`ARCHIVE_DIR`): a key is a relative path under it. An object is
 * written to a temporary file beside its place, flushed to disk, then renamed over it: a rename
 * within one folder is atomic, so a reader finds the whole object or the previous one, never a
 * part, whenever the process stops.
 */
export class DirEventArchive implements EventArchive {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, body: Readable, _contentType: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.partial`;
    // The file is opened before the copy starts: a write stream that opens it lazily could create
    // it after a failed copy's clean-up had run, leaving a stray part behind.
    const file = await open(temporary, 'wx');
    try {
      try {
        for await (const chunk of body as AsyncIterable<Buffer | string>) await file.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    // The rename itself is durable once the folder's entry is on disk.
    const folder = await open(dirname(path), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  async get(key: string): Promise<Readable> {
    const stream = createReadStream(this.pathOf(key));
    // Open errors surface on the stream: wait for the file to open, so a missing one rejects here.
    await new Promise<void>((resolveOpen, reject) => {
      stream.once('open', () => resolveOpen());
      stream.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new ArchiveObjectMissingError(key) : error));
    });
    return stream;
  }

  async list(prefix: string): Promise<string[]> {
    const files = await readdir(this.root, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return files
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.partial'))
      .map((entry) => relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix))
      .sort();
  }

  /** A key never leaves the folder: `..` and absolute paths are refused. */
  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (key.length === 0 || !path.startsWith(this.root + sep)) throw new Error(`Not an archive key: ${key}`);
    return path;
  }
}
