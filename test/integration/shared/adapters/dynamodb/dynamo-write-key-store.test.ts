import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoWriteKeyStore } from '../../../../../lambdas/shared/adapters/dynamodb/dynamo-write-key-store.js';
import { writeKeysTableDefinition } from '../../../../../lambdas/shared/adapters/dynamodb/tables.js';
import type { WriteKeyRecord } from '../../../../../lambdas/shared/domain/write-keys.js';
import { startTestDynamo, type TestDynamo } from '../../../../support/embedded-dynamo.js';
import { TENANT_A, TENANT_B } from '../../../../support/factories.js';

const TABLE = 'write-keys-test';
let dynamo: TestDynamo;
let store: DynamoWriteKeyStore;

beforeAll(async () => {
  dynamo = await startTestDynamo([writeKeysTableDefinition(TABLE)]);
  store = new DynamoWriteKeyStore(dynamo.client, TABLE);
});
afterAll(() => dynamo.stop());

const record = (keyId: string, tenantId: string, createdAt: string): WriteKeyRecord => ({
  keyId,
  tenantId,
  name: `key ${keyId}`,
  keyHash: 'ab'.repeat(32),
  createdAt,
  createdBy: 'admin-1',
});

describe('DynamoWriteKeyStore (dynalite)', () => {
  it("finds a key by id and lists a tenant's keys newest first, without the other tenant's", async () => {
    await store.create(record('00000000000000a1', TENANT_A, '2026-11-01T00:00:00.000Z'));
    await store.create(record('00000000000000a2', TENANT_A, '2026-11-02T00:00:00.000Z'));
    await store.create(record('00000000000000b1', TENANT_B, '2026-11-03T00:00:00.000Z'));

    expect(await store.find('00000000000000a1')).toEqual(record('00000000000000a1', TENANT_A, '2026-11-01T00:00:00.000Z'));
    const listed = await store.list(TENANT_A);
    expect(listed.map((key) => key.keyId)).toEqual(['00000000000000a2', '00000000000000a1']);
    expect(listed[0]).not.toHaveProperty('keyHash');
  });

  it('never overwrites a key with the same id', async () => {
    await store.create(record('00000000000000c1', TENANT_A, '2026-11-04T00:00:00.000Z'));
    await expect(store.create(record('00000000000000c1', TENANT_B, '2026-11-04T00:00:00.000Z'))).rejects.toThrow();
    expect((await store.find('00000000000000c1'))?.tenantId).toBe(TENANT_A);
  });

  it("revokes a tenant's own key once and keeps the first revocation", async () => {
    await store.create(record('00000000000000d1', TENANT_A, '2026-11-05T00:00:00.000Z'));

    const first = await store.revoke(TENANT_A, '00000000000000d1', '2026-11-06T00:00:00.000Z', 'admin-1');
    const second = await store.revoke(TENANT_A, '00000000000000d1', '2026-11-07T00:00:00.000Z', 'admin-2');

    expect(first).toMatchObject({ revokedAt: '2026-11-06T00:00:00.000Z', revokedBy: 'admin-1' });
    expect(second).toMatchObject({ revokedAt: '2026-11-06T00:00:00.000Z', revokedBy: 'admin-1' });
  });

  it("does not revoke another tenant's key, nor reveal that it exists", async () => {
    await store.create(record('00000000000000e1', TENANT_B, '2026-11-05T00:00:00.000Z'));

    expect(await store.revoke(TENANT_A, '00000000000000e1', '2026-11-06T00:00:00.000Z', 'intruder')).toBeUndefined();
    expect(await store.revoke(TENANT_A, '00000000000000ff', '2026-11-06T00:00:00.000Z', 'intruder')).toBeUndefined();
    expect((await store.find('00000000000000e1'))?.revokedAt).toBeUndefined();
  });
});
