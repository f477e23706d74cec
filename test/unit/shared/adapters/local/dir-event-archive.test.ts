import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DirEventArchive } from '../../../../../lambdas/shared/adapters/local/dir-event-archive.js';
import { ArchiveObjectMissingError } from '../../../../../lambdas/shared/ports/event-archive.js';
import { tempDirPerTest } from '../../../../support/temp-dir.js';

const text = async (stream: Readable): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

describe('DirEventArchive', () => {
  const dir = tempDirPerTest('dir-archive-');

  it('stores an object under its key and streams it back', async () => {
    const archive = new DirEventArchive(dir());

    await archive.put('events/2026-01/run-1/a.jsonl.gz', Readable.from(['one\n', 'two\n']), 'application/gzip');

    expect(await text(await archive.get('events/2026-01/run-1/a.jsonl.gz'))).toBe('one\ntwo\n');
  });

  it('keeps the previous object whole when a write fails part way', async () => {
    const archive = new DirEventArchive(dir());
    await archive.put('events/a', Readable.from(['before']), 'text/plain');
    const failing = new Readable({
      read() {
        this.push('half');
        this.destroy(new Error('source died'));
      },
    });

    await expect(archive.put('events/a', failing, 'text/plain')).rejects.toThrow('source died');

    expect(await text(await archive.get('events/a'))).toBe('before');
    expect(await readdir(join(dir(), 'events'))).toEqual(['a']);
  });

  it('answers ArchiveObjectMissingError for a key with no object', async () => {
    await expect(new DirEventArchive(dir()).get('events/none')).rejects.toBeInstanceOf(ArchiveObjectMissingError);
  });

  it('lists the keys under a prefix in key order', async () => {
    const archive = new DirEventArchive(dir());
    for (const key of ['events/2026-02/run-1/m.json', 'events/2026-01/run-1/b', 'events/2026-01/run-1/a']) await archive.put(key, Readable.from(['x']), 'text/plain');

    expect(await archive.list('events/2026-01/')).toEqual(['events/2026-01/run-1/a', 'events/2026-01/run-1/b']);
    expect(await new DirEventArchive(join(dir(), 'missing')).list('events/')).toEqual([]);
  });

  it('refuses a key that would leave the folder', async () => {
    await expect(new DirEventArchive(dir()).put('../outside', Readable.from(['x']), 'text/plain')).rejects.toThrow('Not an archive key');
  });
});
