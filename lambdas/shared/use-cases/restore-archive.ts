import { StoredEventSchema } from '../domain/answer-schemas.js';
import { monthPrefix, type ArchivedTenant } from '../domain/archive-manifest.js';
import { ArchiveObjectMissingError, type EventArchive } from '../ports/event-archive.js';
import type { ArchiveRestoreTarget, RestoredEvent } from '../ports/archive-restore-target.js';
import { ArchiveUnreadableError, readEventLines, readManifest } from './archived-lines.js';

/** An archive that is not as its manifest describes it: a restore loads none of it. */
export class ArchiveTamperedError extends Error {
  override readonly name = 'ArchiveTamperedError';
}

/** Nothing archived matches what was asked for. */
export class ArchiveNotFoundError extends Error {
  override readonly name = 'ArchiveNotFoundError';
}

export interface RestoreRequest {
  /** `YYYY-MM`. */
  month: string;
  tenantId?: string;
}

export interface RestoreSummary {
  table: string;
  generations: number[];
  tenants: number;
  rows: number;
}

/** Rows per insert while loading. */
const LOAD_BATCH = 1000;

/** `2026-01` -> `archive_2026_01`: the table an investigation queries. */
export const restoreTable = (month: string): string => `archive_${month.replace('-', '_')}`;

/** A line that is not JSON fails the schema like any other line that is not an event. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function loadTenant(archive: EventArchive, generation: number, tenant: ArchivedTenant, append: (events: RestoredEvent[]) => Promise<void>): Promise<void> {
  let batch: RestoredEvent[] = [];
  let line = 0;
  const read = await readEventLines(archive, tenant.key, async (text) => {
    line += 1;
    const parsed = StoredEventSchema.safeParse(parseJson(text));
    if (!parsed.success) throw new ArchiveTamperedError(`${tenant.key}, line ${line}: not an archived event (${parsed.error.issues[0]?.message ?? 'unreadable'}); nothing was loaded`);
    batch.push({ tenantId: tenant.tenantId, generation, event: parsed.data });
    if (batch.length >= LOAD_BATCH) {
      await append(batch);
      batch = [];
    }
  }).catch((error: unknown) => {
    if (error instanceof ArchiveObjectMissingError) throw new ArchiveTamperedError(`${tenant.key} is missing, and its manifest lists it; nothing was loaded`);
    if (error instanceof ArchiveUnreadableError) throw new ArchiveTamperedError(`${error.message}; nothing was loaded`);
    throw error;
  });
  if (read.rows !== tenant.rows || read.sha256 !== tenant.sha256) {
    throw new ArchiveTamperedError(
      `${tenant.key} does not match its manifest: ${read.rows} rows, sha256 ${read.sha256}; the manifest says ${tenant.rows} rows, sha256 ${tenant.sha256}. Nothing was loaded`,
    );
  }
  if (batch.length > 0) await append(batch);
}

/**
 * `npm run archive:restore`: an archived month back in a table, for an audit or an investigation.
 * 1. Find the month's manifests (one per generation), and the tenants asked for in them.
 * 2. Stream every tenant's lines into the table in one transaction, checking each line's shape.
 * 3. Compare each tenant's rows and checksum with the manifest; any difference, or an object
 *    missing, rolls the whole load back.
 */
export async function restoreArchive(archive: EventArchive, target: ArchiveRestoreTarget, request: RestoreRequest): Promise<RestoreSummary> {
  const prefix = monthPrefix(`${request.month}-01`);
  const manifestKeys = (await archive.list(prefix)).filter((key) => key.endsWith('/manifest.json'));
  if (manifestKeys.length === 0) throw new ArchiveNotFoundError(`No archive of ${request.month}: no manifest under ${prefix}`);
  const manifests = await Promise.all(manifestKeys.map((key) => readManifest(archive, key.slice(0, -'manifest.json'.length))));
  const wanted = manifests.map((manifest) => ({ manifest, tenants: manifest.tenants.filter((tenant) => !request.tenantId || tenant.tenantId === request.tenantId) }));
  if (wanted.every(({ tenants }) => tenants.length === 0)) throw new ArchiveNotFoundError(`The archive of ${request.month} holds no events of tenant ${request.tenantId ?? ''}`);

  const table = restoreTable(request.month);
  await target.replace(table, async (append) => {
    for (const { manifest, tenants } of wanted) for (const tenant of tenants) await loadTenant(archive, manifest.generation, tenant, append);
  });
  return {
    table,
    generations: manifests.map((manifest) => manifest.generation),
    tenants: new Set(wanted.flatMap(({ tenants }) => tenants.map((tenant) => tenant.tenantId))).size,
    rows: wanted.reduce((sum, { tenants }) => sum + tenants.reduce((rows, tenant) => rows + tenant.rows, 0), 0),
  };
}
