import { randomUUID } from 'node:crypto';
import { describeError, log } from '../../logger.js';
import type { QueueMessage } from '../../domain/queue-messages.js';
import type { EnqueueResult, EventQueue } from '../../ports/event-queue.js';
import type { SqlDatabase } from './sql-database.js';

/**
 * The local queue's own storage, created by the queue rather than by a migration: in AWS the
 * queue is SQS, which the CDK stack creates, and Aurora never holds this table. One table holds
 * both the queue and its dead letters (a state, not a second table), so moving a message to
 * the dead letters or back is one row update.
 */
const CREATE_QUEUE = `
CREATE SCHEMA IF NOT EXISTS local_queue;
CREATE TABLE IF NOT EXISTS local_queue.messages (
  message_id uuid PRIMARY KEY,
  -- Send order: messages of one insert share their sent_at.
  seq bigint GENERATED ALWAYS AS IDENTITY,
  body text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  visible_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  receive_count integer NOT NULL DEFAULT 0,
  first_received_at timestamptz,
  dead_lettered_at timestamptz,
  dead_letter_reason text
);
CREATE INDEX IF NOT EXISTS messages_visible ON local_queue.messages (visible_at) WHERE dead_lettered_at IS NULL;
CREATE INDEX IF NOT EXISTS messages_dead_lettered ON local_queue.messages (dead_lettered_at) WHERE dead_lettered_at IS NOT NULL`;

/**
 * The bodies' storage: lz4 where Postgres has it (20 inserts of 685 KB bodies took 54-56 ms
 * against 66-83 ms uncompressed and 159-165 ms with pglz, in 3.9 against 14.3 MB, the WAL
 * alike), else uncompressed (PGlite has only pglz, which spent 8 of the 20 ms a 1,000-event
 * request's insert took, for rows that live a second). Altered only when not so already: an
 * ALTER TABLE takes the table's exclusive lock, and every process of the runtime opens the queue.
 */
async function keepBodiesCompact(db: SqlDatabase): Promise<void> {
  const [body] = await db.query<{ lz4: boolean; storage: string; compression: string }>(
    `SELECT 'lz4' = ANY(s.enumvals) AS lz4, a.attstorage AS storage, a.attcompression AS compression
     FROM pg_settings s, pg_attribute a
     WHERE s.name = 'default_toast_compression' AND a.attrelid = 'local_queue.messages'::regclass AND a.attname = 'body'`,
  );
  if (!body) return;
  if (body.lz4 && (body.storage !== 'x' || body.compression !== 'l')) await db.exec('ALTER TABLE local_queue.messages ALTER COLUMN body SET STORAGE EXTENDED, ALTER COLUMN body SET COMPRESSION lz4');
  if (!body.lz4 && body.storage !== 'e') await db.exec('ALTER TABLE local_queue.messages ALTER COLUMN body SET STORAGE EXTERNAL');
}

/** A received message; the receipt handle names this receive, as SQS's does. */
export interface ReceivedQueueMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  receiveCount: number;
  sentAt: Date;
  firstReceivedAt: Date;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: Date;
  deadLetteredAt: Date;
  reason: string;
}

/** What a poller needs to decide between delivering now and waiting for its batch window. */
export interface QueueReadiness {
  /** Messages a receive would return now. */
  visible: number;
  /** Age of the oldest visible message since it was sent or last became visible again. */
  oldestVisibleAgeMs: number;
  /** When the next invisible (in flight or failed) message becomes visible; undefined if none. */
  nextVisibleInMs: number | undefined;
  /** Messages not yet deleted or dead-lettered, in flight ones included. */
  live: number;
}

export interface QueueDepth {
  live: number;
  inFlight: number;
  deadLetters: number;
}

interface MessageRow {
  message_id: string;
  seq: string | number;
  body: string;
  receive_count: number;
  sent_at: Date;
  first_received_at: Date;
}

const receiptOf = (messageId: string, receiveCount: number): string => `${messageId}:${receiveCount}`;

function parseReceipts(receipts: string[]): { ids: string[]; counts: number[] } {
  const pairs = receipts.map((receipt) => receipt.split(':'));
  return { ids: pairs.map(([id]) => id ?? ''), counts: pairs.map(([, count]) => Number(count)) };
}

const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

/**
 * SQS's semantics on a table of the local database (PGlite or DATABASE_URL's Postgres), so
 * that an accepted event is as durable locally as in SQS: `enqueue` answers once the insert
 * has committed. Receive hides messages for a visibility timeout and counts receives; a
 * delete needs the receipt of the latest receive; a message received `maxReceiveCount` times
 * without being deleted becomes a dead letter, which stays until it is replayed.
 */
export class PgMessageQueue implements EventQueue {
  private readonly sentListeners: Array<() => void> = [];

  private constructor(private readonly db: SqlDatabase) {}

  static async open(db: SqlDatabase): Promise<PgMessageQueue> {
    await db.exec(CREATE_QUEUE);
    await keepBodiesCompact(db);
    return new PgMessageQueue(db);
  }

  /** Called after every successful enqueue: the local event source wakes instead of polling. */
  onSent(listener: () => void): void {
    this.sentListeners.push(listener);
  }

  async enqueue(messages: QueueMessage[]): Promise<EnqueueResult> {
    if (messages.length === 0) return { failed: [] };
    try {
      // One parameter per body, not a text[]: pg escapes array elements character by character,
      // which cost 6 ms per 1,000-event batch (profiled under bench:ingest).
      const rows = messages.map((_, index) => `($${2 * index + 1}::uuid, $${2 * index + 2}::text)`).join(', ');
      await this.db.query(
        `INSERT INTO local_queue.messages (message_id, body) VALUES ${rows}`,
        messages.flatMap((message) => [randomUUID(), message.body]),
      );
    } catch (error) {
      // One statement: either every message of the request is stored or none is.
      log('warn', 'local queue refused messages', describeError(error));
      const reason = error instanceof Error ? error.message : String(error);
      return { failed: messages.flatMap((message) => message.eventIds.map((eventId) => ({ eventId, reason }))) };
    }
    this.notifySent();
    return { failed: [] };
  }

  private notifySent(): void {
    for (const listener of this.sentListeners) listener();
  }

  async readiness(): Promise<QueueReadiness> {
    const [row] = await this.db.query<{ visible: number; oldest_ms: number | null; next_ms: number | null; live: number }>(
      `SELECT q.visible, (extract(epoch FROM clock.now - q.oldest) * 1000)::float8 AS oldest_ms,
        (extract(epoch FROM q.next_at - clock.now) * 1000)::float8 AS next_ms, q.live
       FROM (SELECT clock_timestamp() AS now) AS clock, LATERAL (
         SELECT count(*) FILTER (WHERE visible_at <= clock.now)::int AS visible,
           min(greatest(sent_at, visible_at)) FILTER (WHERE visible_at <= clock.now) AS oldest,
           min(visible_at) FILTER (WHERE visible_at > clock.now) AS next_at,
           count(*)::int AS live
         FROM local_queue.messages WHERE dead_lettered_at IS NULL
       ) AS q`,
    );
    return {
      visible: row?.visible ?? 0,
      oldestVisibleAgeMs: row?.oldest_ms ?? 0,
      nextVisibleInMs: row?.next_ms ?? undefined,
      live: row?.live ?? 0,
    };
  }

  /**
   * Up to `max` visible messages, oldest first, each hidden for `visibilityTimeoutMs`. A message
   * already received `maxReceiveCount` times (its consumer died each time, say) becomes a dead
   * letter instead, as SQS's redrive policy does.
   */
  async receive(max: number, visibilityTimeoutMs: number, maxReceiveCount: number): Promise<ReceivedQueueMessage[]> {
    await this.db.query(
      `UPDATE local_queue.messages SET dead_lettered_at = clock_timestamp(),
         dead_letter_reason = 'received ' || receive_count || ' times without being deleted'
       WHERE dead_lettered_at IS NULL AND visible_at <= clock_timestamp() AND receive_count >= $1`,
      [maxReceiveCount],
    );
    const rows = await this.db.query<MessageRow>(
      `UPDATE local_queue.messages AS m SET receive_count = m.receive_count + 1,
         visible_at = clock_timestamp() + $2 * interval '1 millisecond',
         first_received_at = coalesce(m.first_received_at, clock_timestamp())
       FROM (
         SELECT message_id FROM local_queue.messages
         WHERE dead_lettered_at IS NULL AND visible_at <= clock_timestamp()
         ORDER BY seq LIMIT $1
         FOR UPDATE SKIP LOCKED
       ) AS picked
       WHERE m.message_id = picked.message_id
       RETURNING m.message_id, m.seq, m.body, m.receive_count, m.sent_at, m.first_received_at`,
      [max, visibilityTimeoutMs],
    );
    return rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((row) => ({
        messageId: row.message_id,
        receiptHandle: receiptOf(row.message_id, row.receive_count),
        body: row.body,
        receiveCount: row.receive_count,
        sentAt: asDate(row.sent_at),
        firstReceivedAt: asDate(row.first_received_at),
      }));
  }

  /** Deletes the messages of these receipts; a receipt of an older receive deletes nothing. */
  async delete(receiptHandles: string[]): Promise<void> {
    if (receiptHandles.length === 0) return;
    const { ids, counts } = parseReceipts(receiptHandles);
    await this.db.query(
      `DELETE FROM local_queue.messages AS m USING unnest($1::uuid[], $2::int[]) AS r(message_id, receive_count)
       WHERE m.message_id = r.message_id AND m.receive_count = r.receive_count`,
      [ids, counts],
    );
  }

  /** Moves the messages of these receipts to the dead letters (their last receive failed). */
  async deadLetter(receiptHandles: string[], reason: string): Promise<void> {
    if (receiptHandles.length === 0) return;
    const { ids, counts } = parseReceipts(receiptHandles);
    await this.db.query(
      `UPDATE local_queue.messages AS m SET dead_lettered_at = clock_timestamp(), dead_letter_reason = $3
       FROM unnest($1::uuid[], $2::int[]) AS r(message_id, receive_count)
       WHERE m.message_id = r.message_id AND m.receive_count = r.receive_count AND m.dead_lettered_at IS NULL`,
      [ids, counts, reason],
    );
  }

  /** Gives the space of deleted messages back: PGlite has no autovacuum to do it. */
  async compact(): Promise<void> {
    await this.db.exec('VACUUM local_queue.messages');
  }

  /** Bytes the queue holds on disk, bodies included. */
  async sizeBytes(): Promise<number> {
    const [row] = await this.db.query<{ bytes: string | number }>(`SELECT pg_total_relation_size('local_queue.messages') AS bytes`);
    return Number(row?.bytes ?? 0);
  }

  async depth(): Promise<QueueDepth> {
    const [row] = await this.db.query<QueueDepth>(
      `SELECT count(*) FILTER (WHERE dead_lettered_at IS NULL)::int AS live,
        count(*) FILTER (WHERE dead_lettered_at IS NULL AND visible_at > clock_timestamp())::int AS "inFlight",
        count(*) FILTER (WHERE dead_lettered_at IS NOT NULL)::int AS "deadLetters"
       FROM local_queue.messages`,
    );
    return row ?? { live: 0, inFlight: 0, deadLetters: 0 };
  }

  async listDeadLetters(limit = 1000): Promise<DeadLetter[]> {
    const rows = await this.db.query<MessageRow & { dead_lettered_at: Date; dead_letter_reason: string | null }>(
      `SELECT message_id, seq, body, receive_count, sent_at, dead_lettered_at, dead_letter_reason FROM local_queue.messages
       WHERE dead_lettered_at IS NOT NULL ORDER BY dead_lettered_at, seq LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      messageId: row.message_id,
      body: row.body,
      receiveCount: row.receive_count,
      sentAt: asDate(row.sent_at),
      deadLetteredAt: asDate(row.dead_lettered_at),
      reason: row.dead_letter_reason ?? '',
    }));
  }

  /**
   * Puts dead letters back on the queue (all, or those named), with their receive count reset,
   * as SQS's DLQ redrive does; answers the ids moved. Their events are deduplicated by the
   * writer, so replaying one that was partly stored stores the rest once.
   */
  async replayDeadLetters(messageIds?: string[]): Promise<string[]> {
    const rows = await this.db.query<{ message_id: string }>(
      `UPDATE local_queue.messages SET dead_lettered_at = NULL, dead_letter_reason = NULL, receive_count = 0,
         first_received_at = NULL, visible_at = clock_timestamp()
       WHERE dead_lettered_at IS NOT NULL AND ($1::uuid[] IS NULL OR message_id = ANY($1::uuid[]))
       RETURNING message_id`,
      [messageIds ?? null],
    );
    if (rows.length > 0) this.notifySent();
    return rows.map((row) => row.message_id);
  }
}
