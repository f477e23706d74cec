import { z } from 'zod';

/** Bumped when a line's shape changes; a restore reads the version it was written with. */
export const ARCHIVE_SCHEMA_VERSION = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const ArchivedTenantSchema = z.strictObject({
  tenantId: z.uuid(),
  key: z.string().min(1),
  rows: z.int().nonnegative(),
  /** The gzip object's size. */
  bytes: z.int().nonnegative(),
  /** sha256 of the uncompressed JSON lines, each ending in `\n`. */
  sha256: sha256Hex,
  minTimestamp: z.iso.datetime(),
  maxTimestamp: z.iso.datetime(),
});
export type ArchivedTenant = z.output<typeof ArchivedTenantSchema>;

export const ArchiveManifestSchema = z.strictObject({
  schemaVersion: z.literal(ARCHIVE_SCHEMA_VERSION),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  generation: z.int().positive(),
  createdAt: z.iso.datetime(),
  tenants: z.array(ArchivedTenantSchema),
});
export type ArchiveManifest = z.output<typeof ArchiveManifestSchema>;

/** `2026-01-01` -> `2026-01`: how months appear in keys and on the command line. */
export const monthKey = (month: string): string => month.slice(0, 7);

/** Every archive of a month is under this prefix; each generation has a folder of its own. */
export const monthPrefix = (month: string): string => `events/${monthKey(month)}/`;

export const archivePrefix = (month: string, generation: number): string => `${monthPrefix(month)}run-${generation}/`;

/** A tenant's rows archived before the month's partition, past that tenant's shorter retention. */
export const tenantArchivePrefix = (month: string, tenantId: string, generation: number): string => `${monthPrefix(month)}tenant-${tenantId}/run-${generation}/`;

export const tenantKey = (prefix: string, tenantId: string): string => `${prefix}${tenantId}.jsonl.gz`;

export const manifestKey = (prefix: string): string => `${prefix}manifest.json`;
