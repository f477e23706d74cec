import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { pipeline, Readable, Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { StoredEvent } from '../domain/answer-schemas.js';
import { ArchiveManifestSchema, manifestKey, type ArchiveManifest } from '../domain/archive-manifest.js';
import type { EventArchive } from '../ports/event-archive.js';

/** What a tenant's archived lines add up to: the manifest's entry, and what a check recomputes. */
export interface LinesDigest {
  rows: number;
  /** sha256 of the uncompressed lines. */
  sha256: string;
}

export interface WrittenLines extends LinesDigest {
  bytes: number;
  minTimestamp: string;
  maxTimestamp: string;
}

export const ARCHIVE_CONTENT_TYPE = 'application/gzip';

/** Lines go to gzip in chunks of about this many characters: zlib pays per write, not per byte. */
const CHUNK_CHARS = 64 * 1024;

/** Within 10% of the default level 6's size on event lines, in half its zlib time (docs/benchmarks.md, Retention). */
const GZIP_LEVEL = 3;

/**
 * Streams events to `key` as gzip JSON lines, one event per line as the API answers it, hashing
 * the lines on the way: one pass, and nothing held but the page being read and one chunk.
 */
export async function putEventLines(archive: EventArchive, key: string, events: AsyncIterable<StoredEvent>): Promise<WrittenLines> {
  const hash = createHash('sha256');
  let rows = 0;
  let bytes = 0;
  let minTimestamp = '';
  let maxTimestamp = '';
  async function* chunks(): AsyncGenerator<Buffer> {
    let text = '';
    const take = (): Buffer => {
      const chunk = Buffer.from(text);
      hash.update(chunk);
      text = '';
      return chunk;
    };
    for await (const event of events) {
      text += `${JSON.stringify(event)}\n`;
      rows += 1;
      // ISO instants of one format: text order is time order.
      if (minTimestamp === '' || event.timestamp < minTimestamp) minTimestamp = event.timestamp;
      if (event.timestamp > maxTimestamp) maxTimestamp = event.timestamp;
      if (text.length >= CHUNK_CHARS) yield take();
    }
    if (text.length > 0) yield take();
  }
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  let failure: Error | undefined;
  // pipeline destroys every stage on a failure, so the archive sees its body fail too.
  const body = pipeline(Readable.from(chunks()), createGzip({ level: GZIP_LEVEL }), counted, (error) => {
    failure = error ?? undefined;
  });
  await archive.put(key, body, ARCHIVE_CONTENT_TYPE);
  if (failure) throw failure;
  return { rows, sha256: hash.digest('hex'), bytes, minTimestamp, maxTimestamp };
}

/** The archive cannot be read as gzip lines: a damaged or foreign object. */
export class ArchiveUnreadableError extends Error {
  override readonly name = 'ArchiveUnreadableError';
  constructor(readonly key: string, cause: unknown) {
    super(`${key} is not a readable gzip archive: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Reads `key` back, hashing the uncompressed bytes as they are, and hands each line to `onLine`
 * (a restore loads them; a check only counts). Nothing of the object is held but one line.
 */
export async function readEventLines(archive: EventArchive, key: string, onLine: (line: string) => Promise<void> | void = () => {}): Promise<LinesDigest> {
  const source = await archive.get(key);
  const hash = createHash('sha256');
  const hashed = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  let failure: Error | undefined;
  const uncompressed = pipeline(source, createGunzip(), hashed, (error) => {
    failure = error ?? undefined;
  });
  let rows = 0;
  try {
    for await (const line of createInterface({ input: uncompressed, crlfDelay: Infinity })) {
      rows += 1;
      await onLine(line);
    }
  } catch (error) {
    uncompressed.destroy();
    // A failure of the stream is the object's; one of onLine is the caller's own.
    throw failure ? new ArchiveUnreadableError(key, failure) : error;
  }
  if (failure) throw new ArchiveUnreadableError(key, failure);
  return { rows, sha256: hash.digest('hex') };
}

/** The manifest is written last: an archive without one is incomplete, whatever else it holds. */
export async function putManifest(archive: EventArchive, prefix: string, manifest: ArchiveManifest): Promise<void> {
  await archive.put(manifestKey(prefix), Readable.from([JSON.stringify(manifest, null, 2)]), 'application/json');
}

/** The archive's manifest under `prefix`, checked against its schema. */
export async function readManifest(archive: EventArchive, prefix: string): Promise<ArchiveManifest> {
  const key = manifestKey(prefix);
  const chunks: Buffer[] = [];
  for await (const chunk of await archive.get(key)) chunks.push(Buffer.from(chunk as Buffer));
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ArchiveUnreadableError(key, error);
  }
  const manifest = ArchiveManifestSchema.safeParse(parsed);
  if (!manifest.success) throw new ArchiveUnreadableError(key, new Error(manifest.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')));
  return manifest.data;
}
