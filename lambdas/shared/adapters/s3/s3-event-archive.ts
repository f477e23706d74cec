import { Readable } from 'node:stream';
import { ChecksumAlgorithm, GetObjectCommand, NoSuchKey, paginateListObjectsV2, type S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ArchiveObjectMissingError, type EventArchive } from '../../ports/event-archive.js';

/**
 * The archive client's retries: a part that fails (a 5xx, a `SlowDown`, a reset connection) is
 * sent again by the SDK's retry strategy, part by part, without restarting the upload. Five
 * attempts rather than the default three, because one part lost for good costs the whole
 * month's upload.
 */
export const ARCHIVE_S3_CLIENT_CONFIG = { maxAttempts: 5, retryMode: 'standard' } as const satisfies S3ClientConfig;

/** Parts of at least 5 MiB (S3's minimum), `queueSize` of them in flight at once. */
export interface UploadSizing {
  partSize: number;
  queueSize: number;
}

/**
 * How an upload buffers: `queueSize` parts of `partSize` in flight, so 32 MiB of a Lambda's
 * memory whatever the partition's size. 8 MiB is S3's recommended part size; 10,000 parts of it
 * allow 80 GB per object, far above one tenant's month of gzip lines.
 */
export const ARCHIVE_UPLOAD: UploadSizing = { partSize: 8 * 1024 * 1024, queueSize: 4 };

/** An archive operation that S3 refused, named with the object it was about. */
export class S3ArchiveError extends Error {
  override readonly name = 'S3ArchiveError';
  constructor(operation: string, url: string, cause: unknown) {
    super(`Could not ${operation} ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * The archive in an S3 bucket. Objects are streamed both ways: an upload holds at most
 * `ARCHIVE_UPLOAD`'s parts in memory, a read hands the response body on as it arrives.
 */
export class S3EventArchive implements EventArchive {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly upload: UploadSizing = ARCHIVE_UPLOAD,
  ) {}

  async put(key: string, body: Readable, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        // Each part carries its SHA-256 and S3 refuses a part that arrives different. SHA-256
        // rather than the SDK's default CRC32: Node hashes it natively (with the ARMv8 crypto
        // instructions on Graviton), while the SDK's CRC32 is JavaScript.
        ChecksumAlgorithm: ChecksumAlgorithm.SHA256,
      },
      partSize: this.upload.partSize,
      queueSize: this.upload.queueSize,
      // A failed upload is aborted, so no parts are left behind to be billed; the bucket's
      // lifecycle cleans up after a function that timed out before it could abort.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      throw new S3ArchiveError('upload', this.url(key), error);
    }
  }

  async get(key: string): Promise<Readable> {
    let response;
    try {
      response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      // S3 answers NoSuchKey only to a caller allowed to list the bucket; otherwise 403.
      if (error instanceof NoSuchKey) throw new ArchiveObjectMissingError(key);
      throw new S3ArchiveError('read', this.url(key), error);
    }
    if (!(response.Body instanceof Readable)) throw new S3ArchiveError('read', this.url(key), new Error('the response has no body stream'));
    return response.Body;
  }

  /** S3 lists keys in UTF-8 binary order, which is the port's key order for the ASCII keys it writes. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix })) {
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      }
    } catch (error) {
      throw new S3ArchiveError('list', this.url(prefix), error);
    }
    return keys;
  }

  private url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}
