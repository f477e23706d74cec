import type { ArchiveRestoreTarget, RestoredEvent } from '../../ports/archive-restore-target.js';
import type { SqlDatabase } from './sql-database.js';

const TABLE = /^archive_\d{4}_\d{2}$/;

/**
 * Restored events in a plain table of the session user (the operator): the events' own columns
 * plus tenant and generation. No row-level security and no grant to the application: it is
 * read with psql, not through the API.
 */
export class PgArchiveRestore implements ArchiveRestoreTarget {
  constructor(private readonly db: SqlDatabase) {}

  async replace(table: string, load: (append: (events: RestoredEvent[]) => Promise<void>) => Promise<void>): Promise<void> {
    if (!TABLE.test(table)) throw new Error(`Not a restore table: ${table}`);
    await this.db.transaction(async (session) => {
      await session.exec(`DROP TABLE IF EXISTS ${table};
        CREATE TABLE ${table} (
          tenant_id uuid NOT NULL, generation int NOT NULL, event_id uuid NOT NULL, timestamp timestamptz NOT NULL,
          event_type varchar(50) NOT NULL, category varchar(100) NOT NULL, action varchar(100) NOT NULL, label varchar(255),
          value numeric, user_id uuid, session_id varchar(64), properties jsonb NOT NULL, context jsonb NOT NULL,
          metadata jsonb NOT NULL, received_at timestamptz NOT NULL, stored_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, event_id, timestamp))`);
      await load(async (events) => {
        await session.query(
          `INSERT INTO ${table} SELECT r."tenantId", r.generation, e."eventId", e.timestamp, e.type, e.category, e.action, e.label, e.value,
             e."userId", e."sessionId", e.properties, e.context, e.metadata, e."receivedAt", e."storedAt"
           FROM jsonb_to_recordset($1::jsonb) AS r("tenantId" uuid, generation int, event jsonb),
             jsonb_to_record(r.event) AS e("eventId" uuid, timestamp timestamptz, type text, category text, action text, label text, value numeric,
               "userId" uuid, "sessionId" text, properties jsonb, context jsonb, metadata jsonb, "receivedAt" timestamptz, "storedAt" timestamptz)`,
          [JSON.stringify(events)],
        );
      });
    });
  }
}
