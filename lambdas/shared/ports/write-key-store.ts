import type { WriteKeyListing, WriteKeyRecord } from '../domain/write-keys.js';

/** Where write keys live; readable by the authorizer, which runs outside the VPC. */
export interface WriteKeyStore {
  create(record: WriteKeyRecord): Promise<void>;
  /** The record of a key id, whichever tenant owns it (the authorizer does not know yet). */
  find(keyId: string): Promise<WriteKeyRecord | undefined>;
  /** The tenant's keys, newest first, revoked ones included; without hashes. */
  list(tenantId: string): Promise<WriteKeyListing[]>;
  /** Marks the key revoked if it is the tenant's and still live; the record, or undefined if it is not the tenant's. */
  revoke(tenantId: string, keyId: string, revokedAt: string, revokedBy: string): Promise<WriteKeyRecord | undefined>;
}
