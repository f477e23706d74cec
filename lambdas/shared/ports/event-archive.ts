import type { Readable } from 'node:stream';

/**
 * Cold storage for archived event partitions: S3 in AWS (multipart, streamed), a folder
 * locally. Keys are relative paths (`events/2026-01/<tenant>.jsonl.gz`); objects are written
 * whole or not at all, so a reader never sees half an object under its key.
 */
export interface EventArchive {
  /** Streams `body` to `key`, replacing any object there; resolves once the object is complete. */
  put(key: string, body: Readable, contentType: string): Promise<void>;
  /** Streams the object back; rejects with `ArchiveObjectMissingError` when there is none. */
  get(key: string): Promise<Readable>;
  /** The keys under `prefix`, in key order. */
  list(prefix: string): Promise<string[]>;
}

export class ArchiveObjectMissingError extends Error {
  override readonly name = 'ArchiveObjectMissingError';
  constructor(readonly key: string) {
    super(`The archive holds no object ${key}.`);
  }
}
