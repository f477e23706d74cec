import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { WriteKeySummary } from './answer-schemas.js';
import type { Caller } from './caller.js';
import { storableText } from './event-schemas.js';

/**
 * A write key: `wk_<keyId>_<secret>`. The key id is public (it names the key in lists and
 * logs, and finds its record); the secret is 256 random bits, shown once and stored only as
 * its SHA-256. A slow password hash would add nothing: no one can guess 256 random bits, and
 * the authorizer checks keys on the request path.
 */
export const WRITE_KEY_PREFIX = 'wk_';
const KEY_ID_BYTES = 8;
const SECRET_BYTES = 32;
const WRITE_KEY = /^wk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** What a write key may do: send events, nothing else. */
export const WRITE_KEY_SCOPES = ['events:write'] as const;

export const CreateWriteKeySchema = z.strictObject({ name: storableText(100).min(1) });
export const KeyIdSchema = z.strictObject({ keyId: z.string().regex(/^[0-9a-f]{16}$/, 'is not a key id') });

export interface WriteKeyRecord {
  keyId: string;
  tenantId: string;
  name: string;
  /** SHA-256 of the whole key, hex. */
  keyHash: string;
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
  revokedBy?: string;
}

/** A key record without its hash, as the tenant index holds it. */
export type WriteKeyListing = Omit<WriteKeyRecord, 'keyHash'>;

/** A key as an admin sees it: never the secret, never its hash. */
export type { WriteKeySummary };

export function isWriteKey(token: string): boolean {
  return token.startsWith(WRITE_KEY_PREFIX);
}

export function newWriteKey(): { keyId: string; key: string } {
  const keyId = randomBytes(KEY_ID_BYTES).toString('hex');
  return { keyId, key: `${WRITE_KEY_PREFIX}${keyId}_${randomBytes(SECRET_BYTES).toString('base64url')}` };
}

export function hashWriteKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The key id of a well-formed key; anything else is no key at all. */
export function writeKeyId(key: string): string | undefined {
  return WRITE_KEY.exec(key)?.[1];
}

/**
 * The caller a presented key stands for, if it matches a live record. The hashes are compared
 * in constant time, so response timing tells nothing about how much of a forged key was right.
 */
export function callerForWriteKey(key: string, record: WriteKeyRecord | undefined): Caller | undefined {
  // Hashed whether or not there is a record, so an unknown id answers as slowly as a wrong secret.
  const presented = Buffer.from(hashWriteKey(key), 'hex');
  const stored = Buffer.from(record?.keyHash ?? '', 'hex');
  const matches = presented.length === stored.length && timingSafeEqual(presented, stored);
  if (!record || !matches || record.revokedAt) return undefined;
  return { tenantId: record.tenantId, subject: `writekey:${record.keyId}`, scopes: [...WRITE_KEY_SCOPES] };
}

export function summariseWriteKey(record: WriteKeyListing): WriteKeySummary {
  const { keyId, name, createdAt, createdBy, revokedAt, revokedBy } = record;
  return { keyId, name, scopes: [...WRITE_KEY_SCOPES], createdAt, createdBy, ...(revokedAt ? { revokedAt, revokedBy } : {}) };
}
