import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ARCHIVE_S3_CLIENT_CONFIG, ARCHIVE_UPLOAD, S3ArchiveError, S3EventArchive } from '../../../../../lambdas/shared/adapters/s3/s3-event-archive.js';
import { ArchiveObjectMissingError } from '../../../../../lambdas/shared/ports/event-archive.js';

const BUCKET = 'tracker-archive';
const KEY = 'events/2026-01/00000000-0000-4000-8000-000000000001.jsonl.gz';
const MIB = 1024 * 1024;
const region = 'eu-west-1';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

/** A body streamed in 1 MiB chunks, `mebibytes` long, that fails with `failure` at its end if given. */
function body(mebibytes: number, failure?: Error): Readable {
  return Readable.from(
    (async function* () {
      for (let index = 0; index < mebibytes; index++) yield Buffer.alloc(MIB, index);
      if (failure) throw failure;
    })(),
  );
}

describe('S3EventArchive', () => {
  const client = new S3Client({ region, credentials });
  const s3 = mockClient(client);
  const archive = new S3EventArchive(client, BUCKET);

  beforeEach(() => {
    s3.reset();
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(AbortMultipartUploadCommand).resolves({});
  });

  describe('put', () => {
    it('uploads a body over one part as a multipart upload of ARCHIVE_UPLOAD parts, each with its SHA-256', async () => {
      // Prepare: two full parts and a last one of 1 MiB
      const mebibytes = (2 * ARCHIVE_UPLOAD.partSize) / MIB + 1;

      // Act
      await archive.put(KEY, body(mebibytes), 'application/gzip');

      // Assess
      const create = s3.commandCalls(CreateMultipartUploadCommand);
      expect(create).toHaveLength(1);
      expect(create[0]?.args[0].input).toMatchObject({ Bucket: BUCKET, Key: KEY, ContentType: 'application/gzip', ChecksumAlgorithm: 'SHA256' });
      const parts = s3.commandCalls(UploadPartCommand).map((call) => call.args[0].input);
      expect(parts.map((part) => [part.PartNumber, (part.Body as Uint8Array).byteLength])).toEqual([
        [1, ARCHIVE_UPLOAD.partSize],
        [2, ARCHIVE_UPLOAD.partSize],
        [3, MIB],
      ]);
      expect(parts.every((part) => part.UploadId === 'upload-1')).toBe(true);
      const complete = s3.commandCalls(CompleteMultipartUploadCommand);
      expect(complete).toHaveLength(1);
      expect(complete[0]?.args[0].input).toMatchObject({
        Bucket: BUCKET,
        Key: KEY,
        UploadId: 'upload-1',
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"etag-1"' }, { PartNumber: 2, ETag: '"etag-2"' }, { PartNumber: 3, ETag: '"etag-3"' }] },
      });
      expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    it('writes a body smaller than one part with a single PutObject', async () => {
      s3.on(PutObjectCommand).resolves({});

      await archive.put(KEY, body(1), 'application/gzip');

      expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: BUCKET, Key: KEY, ChecksumAlgorithm: 'SHA256' });
      expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    });

    it('aborts the multipart upload when the body stream fails, and completes nothing', async () => {
      // Prepare: the export fails after one full part has gone up
      const failure = new Error('export cursor closed');

      // Act
      const put = archive.put(KEY, body(ARCHIVE_UPLOAD.partSize / MIB + 1, failure), 'application/gzip');

      // Assess
      await expect(put).rejects.toThrow(S3ArchiveError);
      await expect(put).rejects.toMatchObject({ cause: failure, message: expect.stringContaining(`s3://${BUCKET}/${KEY}`) });
      expect(s3.commandCalls(AbortMultipartUploadCommand).map((call) => call.args[0].input)).toEqual([{ Bucket: BUCKET, Key: KEY, UploadId: 'upload-1' }]);
      expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    });

    it('aborts the multipart upload when a part fails after every attempt', async () => {
      s3.on(UploadPartCommand, { PartNumber: 2 }).rejects(new Error('socket hang up'));

      await expect(archive.put(KEY, body((2 * ARCHIVE_UPLOAD.partSize) / MIB), 'application/gzip')).rejects.toThrow(/socket hang up/);

      expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
      expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    });
  });

  describe('get', () => {
    it('streams the object back', async () => {
      // In Node the SDK's body is the HTTP response, a Readable.
      s3.on(GetObjectCommand, { Bucket: BUCKET, Key: KEY }).callsFake(() => ({ Body: Readable.from(['{"a":1}\n', '{"a":2}\n']) }));

      const stream = await archive.get(KEY);

      expect(await text(stream)).toBe('{"a":1}\n{"a":2}\n');
    });

    it('rejects with ArchiveObjectMissingError when S3 has no such key', async () => {
      s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));

      await expect(archive.get(KEY)).rejects.toEqual(new ArchiveObjectMissingError(KEY));
    });

    it('names the object when S3 refuses the read for another reason', async () => {
      s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }));

      await expect(archive.get(KEY)).rejects.toThrow(new S3ArchiveError('read', `s3://${BUCKET}/${KEY}`, new Error('Access Denied')).message);
    });
  });

  describe('list', () => {
    it('follows continuation tokens until the listing is complete', async () => {
      // Prepare: the paginator reuses one input object, so each call's token is noted as it is sent
      const tokens: Array<string | undefined> = [];
      s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: 'events/2026-01/' }).callsFake((input: { ContinuationToken?: string }) => {
        tokens.push(input.ContinuationToken);
        return input.ContinuationToken === undefined
          ? { Contents: [{ Key: 'events/2026-01/a.jsonl.gz' }, { Key: 'events/2026-01/b.jsonl.gz' }], IsTruncated: true, NextContinuationToken: 'page-2' }
          : { Contents: [{ Key: 'events/2026-01/manifest.json' }], IsTruncated: false };
      });

      // Act
      const keys = await archive.list('events/2026-01/');

      // Assess
      expect(keys).toEqual(['events/2026-01/a.jsonl.gz', 'events/2026-01/b.jsonl.gz', 'events/2026-01/manifest.json']);
      expect(tokens).toEqual([undefined, 'page-2']);
    });

    it('answers no keys for an empty prefix', async () => {
      s3.on(ListObjectsV2Command).resolves({ KeyCount: 0, IsTruncated: false });

      expect(await archive.list('events/2030-01/')).toEqual([]);
    });
  });
});

/**
 * The client mock replaces `send`, and with it the SDK's retry middleware: a retried part is
 * proven against a real client whose HTTP handler answers like S3.
 */
describe('S3EventArchive with the archive client configuration', () => {
  interface FakeRequest {
    method: string;
    query: Record<string, string | string[] | null>;
  }
  const xml = (statusCode: number, document: string, headers: Record<string, string> = {}) => ({
    response: { statusCode, headers: { 'content-type': 'application/xml', ...headers }, body: Readable.from([document]) },
  });

  it('sends a part again after S3 answers 503 SlowDown, and completes the upload', async () => {
    // Prepare: part 2 is refused once
    const sent: string[] = [];
    let slowDowns = 0;
    const requestHandler = {
      handle: async (request: FakeRequest) => {
        if ('uploads' in request.query) {
          sent.push('create');
          return xml(200, `<InitiateMultipartUploadResult><Bucket>${BUCKET}</Bucket><Key>${KEY}</Key><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>`);
        }
        const part = request.query.partNumber;
        if (typeof part === 'string') {
          sent.push(`part ${part}`);
          if (part === '2' && slowDowns++ === 0) return xml(503, '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
          return { response: { statusCode: 200, headers: { etag: `"etag-${part}"` }, body: Readable.from([]) } };
        }
        sent.push('complete');
        return xml(200, `<CompleteMultipartUploadResult><Bucket>${BUCKET}</Bucket><Key>${KEY}</Key><ETag>"whole"</ETag></CompleteMultipartUploadResult>`);
      },
    };
    const client = new S3Client({ ...ARCHIVE_S3_CLIENT_CONFIG, region, credentials, requestHandler });
    const archive = new S3EventArchive(client, BUCKET, { partSize: 5 * MIB, queueSize: 1 });

    // Act
    await archive.put(KEY, body(11), 'application/gzip');

    // Assess
    expect(sent).toEqual(['create', 'part 1', 'part 2', 'part 2', 'part 3', 'complete']);
  });
});
