import { describe, expect, it } from 'vitest';
import { MalformedBodyError, NotFoundError, UnauthorizedError, WriteKeysUnavailableError } from '../../../../lambdas/shared/domain/errors.js';
import { PII_DETECTORS } from '../../../../lambdas/shared/domain/pii-masking.js';
import type { WriteKeyStore } from '../../../../lambdas/shared/ports/write-key-store.js';
import { newWriteKey, writeKeyId } from '../../../../lambdas/shared/domain/write-keys.js';
import { getSegmentSettings, trackSegment } from '../../../../lambdas/shared/use-cases/track-segment.js';
import { recordingLimiter } from '../../../support/fake-limits.js';

const KEY = newWriteKey().key;
const base = { protocol: 'https', apiHost: 'api.example.com/v1' } as const;

/** A write-key table that does not answer (DynamoDB throttling, a network fault). */
const unreachable: WriteKeyStore = {
  create: () => Promise.reject(new Error('unreachable')),
  find: () => Promise.reject(new Error('ProvisionedThroughputExceededException')),
  list: () => Promise.reject(new Error('unreachable')),
  revoke: () => Promise.reject(new Error('unreachable')),
};
const empty: WriteKeyStore = { ...unreachable, find: () => Promise.resolve(undefined) };

const deps = (writeKeys: WriteKeyStore) => ({
  writeKeys,
  queue: { enqueue: () => Promise.reject(new Error('nothing may be queued')) },
  limiter: recordingLimiter(),
  ingest: { pii: { deployment: { detectors: PII_DETECTORS, mode: 'redact' as const }, tenants: {} }, eventRetentionDays: 90, sqsMaxMessageBytes: 256 * 1024 },
});
const batch = { batch: [{ type: 'track', event: 'Signed Up', userId: 'u-1' }] };
const basic = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;

describe('the Segment routes when the write keys cannot be checked', () => {
  it('answer a batch with the 503 the SDKs retry, not the 401 they drop', async () => {
    await expect(trackSegment(deps(unreachable), { call: 'batch', authorization: basic, requestId: 'r', receivedAt: new Date() }, () => batch)).rejects.toBeInstanceOf(WriteKeysUnavailableError);
  });

  it('answer the settings with a 503 too, and a 404 only for a key the table does not hold', async () => {
    await expect(getSegmentSettings(unreachable, KEY, base)).rejects.toBeInstanceOf(WriteKeysUnavailableError);
    await expect(getSegmentSettings(empty, KEY, base)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('the order in which a Segment request is read', () => {
  const unparsable = (): never => {
    throw new MalformedBodyError('The body is not valid JSON.');
  };

  it('checks the key of HTTP Basic before the body is parsed: an unknown caller costs no parse', async () => {
    let parsed = 0;
    const readBody = () => {
      parsed += 1;
      return batch;
    };
    await expect(trackSegment(deps(empty), { call: 'batch', authorization: basic, requestId: 'r', receivedAt: new Date() }, readBody)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(trackSegment(deps(empty), { call: 'batch', authorization: basic, requestId: 'r', receivedAt: new Date() }, unparsable)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(parsed).toBe(0);
  });

  it('takes the key of HTTP Basic over the body\'s writeKey', async () => {
    const looked: string[] = [];
    const recording: WriteKeyStore = { ...empty, find: (keyId) => (looked.push(keyId), Promise.resolve(undefined)) };
    const other = newWriteKey().key;
    await expect(trackSegment(deps(recording), { call: 'batch', authorization: basic, requestId: 'r', receivedAt: new Date() }, () => ({ ...batch, writeKey: other }))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(looked).toEqual([writeKeyId(KEY)]);
  });

  it('reads the body first when there is no Basic, for its writeKey', async () => {
    const looked: string[] = [];
    const recording: WriteKeyStore = { ...empty, find: (key) => (looked.push(key), Promise.resolve(undefined)) };
    await expect(trackSegment(deps(recording), { call: 'batch', authorization: undefined, requestId: 'r', receivedAt: new Date() }, () => ({ ...batch, writeKey: KEY }))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(looked).toHaveLength(1);
    await expect(trackSegment(deps(recording), { call: 'batch', authorization: undefined, requestId: 'r', receivedAt: new Date() }, unparsable)).rejects.toBeInstanceOf(MalformedBodyError);
    expect(looked).toHaveLength(1);
  });
});
