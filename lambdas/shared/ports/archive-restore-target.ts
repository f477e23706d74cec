import type { StoredEvent } from '../domain/answer-schemas.js';

/** An archived event and whose it was. */
export interface RestoredEvent {
  tenantId: string;
  generation: number;
  event: StoredEvent;
}

/** Where a restore loads archived events: a table that can be queried with SQL. */
export interface ArchiveRestoreTarget {
  /**
   * Replaces `table` with the events `load` appends, in one transaction: when `load` throws,
   * the table is as it was before (or absent) and nothing is loaded.
   */
  replace(table: string, load: (append: (events: RestoredEvent[]) => Promise<void>) => Promise<void>): Promise<void>;
}
