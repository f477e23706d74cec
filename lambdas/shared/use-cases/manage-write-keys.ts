import type { CreatedWriteKey } from '../domain/answer-schemas.js';
import type { Actor, Caller } from '../domain/caller.js';
import { NotFoundError } from '../domain/errors.js';
import {
  callerForWriteKey,
  CreateWriteKeySchema,
  hashWriteKey,
  KeyIdSchema,
  newWriteKey,
  summariseWriteKey,
  writeKeyId,
  type WriteKeySummary,
} from '../domain/write-keys.js';
import { parseInput } from '../domain/zod-issues.js';
import type { WriteKeyStore } from '../ports/write-key-store.js';

/** POST /v1/keys: a new write key of the caller's tenant; the key itself is in this answer only. */
export async function createWriteKey(store: WriteKeyStore, who: Actor, body: unknown, now = new Date()): Promise<CreatedWriteKey> {
  // 1. Validate the request.
  const { name } = parseInput(CreateWriteKeySchema, body);
  // 2. Make the key and keep only its hash.
  const { keyId, key } = newWriteKey();
  const record = { keyId, tenantId: who.tenantId, name, keyHash: hashWriteKey(key), createdAt: now.toISOString(), createdBy: who.subject };
  await store.create(record);
  // 3. Show it once.
  return { ...summariseWriteKey(record), key };
}

/** GET /v1/keys: the tenant's keys without their secrets. */
export async function listWriteKeys(store: WriteKeyStore, tenantId: string): Promise<{ keys: WriteKeySummary[] }> {
  return { keys: (await store.list(tenantId)).map(summariseWriteKey) };
}

/** DELETE /v1/keys/{keyId}: revokes a key of the caller's tenant; another tenant's id is not found. */
export async function revokeWriteKey(store: WriteKeyStore, who: Actor, params: unknown, now = new Date()): Promise<WriteKeySummary> {
  const { keyId } = parseInput(KeyIdSchema, params);
  const record = await store.revoke(who.tenantId, keyId, now.toISOString(), who.subject);
  if (!record) throw new NotFoundError(`No write key ${keyId}.`);
  return summariseWriteKey(record);
}

/** The authorizer's check of a presented write key. */
export async function authenticateWriteKey(store: WriteKeyStore, key: string): Promise<Caller | undefined> {
  const keyId = writeKeyId(key);
  if (!keyId) return undefined;
  return callerForWriteKey(key, await store.find(keyId));
}
