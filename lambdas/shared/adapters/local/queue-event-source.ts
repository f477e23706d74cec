import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError, log } from '../../logger.js';
import type { PgMessageQueue, ReceivedQueueMessage } from '../pg/pg-message-queue.js';

export interface EventSourceOptions {
  /** Records per consumer call, like an SQS event source's BatchSize. */
  batchSize: number;
  /** How long a partial batch waits for more records (MaximumBatchingWindowInSeconds). */
  batchWindowMs: number;
  /** Receives before a record becomes a dead letter (the redrive policy's maxReceiveCount). */
  maxReceiveCount: number;
  /** How long a received record stays hidden; a failed one comes back after it. */
  visibilityTimeoutMs: number;
  /** Vacuum the empty queue once this many messages went through (default 1,000). */
  compactAfterDeletes?: number;
}

/** The writer handler's shape: an SQS event and the invocation's request id. */
export type QueueConsumer = (event: SQSEvent, context: { awsRequestId: string }) => Promise<SQSBatchResponse>;

/**
 * Messages sent by another process (`npm run dlq -- replay`, a second runtime on the same
 * Postgres) wake nobody: the source looks at least this often.
 */
const IDLE_POLL_MS = 1000;
/** After a failed look at the queue (the database restarting, say). */
const ERROR_BACKOFF_MS = 1000;
/** Vacuum the queue when it is empty and this many messages went through, or after a while. */
const COMPACT_AFTER_DELETES = 1000;
const COMPACT_INTERVAL_MS = 10_000;

/**
 * The Lambda event source of the local queue: batches by size or window, one consumer call at
 * a time, deletes what the consumer did not report as failed, leaves failed records to come
 * back after their visibility timeout (all of them if the consumer throws), and dead-letters a
 * record on its `maxReceiveCount`th failed receive.
 */
export class QueueEventSource {
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopped = true;
  /** A wake that came while a look was under way: that look may have read the queue before the send. */
  private wakePending = false;
  /** Waiters answer only to a look that began after they asked, never to an older read. */
  private newDrainWaiters: Array<() => void> = [];
  private stopWaiters: Array<() => void> = [];
  /** Set by drainAndStop: deliver what is visible until then, then stop. */
  private drainDeadline: number | undefined;
  private deletedSinceCompaction = 0;
  private lastCompaction = Date.now();

  constructor(
    private readonly queue: PgMessageQueue,
    private readonly consume: QueueConsumer,
    private readonly options: EventSourceOptions,
  ) {
    queue.onSent(() => this.wake());
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Looks at the queue now; if a look is under way, another follows it at once. */
  wake(): void {
    if (this.stopped) return;
    if (this.tick) {
      this.wakePending = true;
      return;
    }
    clearTimeout(this.timer);
    this.tick = this.look().finally(() => {
      this.tick = undefined;
    });
  }

  /** Resolves once no message is left to deliver (dead letters aside), or the source stops. */
  drained(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const waiting = new Promise<void>((resolve) => this.newDrainWaiters.push(resolve));
    this.wake();
    return waiting;
  }

  /**
   * Keeps delivering until nothing is visible or `deadlineMs` has passed, then stops after the
   * delivery under way. What is left stays queued, durable, for the next start.
   */
  async drainAndStop(deadlineMs: number): Promise<void> {
    if (this.stopped) return;
    const stopped = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    this.drainDeadline = Date.now() + deadlineMs;
    clearTimeout(this.timer);
    this.wake();
    await stopped;
  }

  /** Stops looking; resolves once the delivery under way (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tick;
    this.settleAllWaiters();
  }

  private settle(waiters: Array<() => void>): void {
    for (const resolve of waiters) resolve();
  }

  /** Once stopped, nobody waits for a drain or a stop any longer. */
  private settleAllWaiters(): void {
    this.settle([...this.newDrainWaiters.splice(0), ...this.stopWaiters.splice(0)]);
  }

  private later(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(0, Math.ceil(ms)));
  }

  private async look(): Promise<void> {
    this.wakePending = false;
    const drainWaiters = this.newDrainWaiters.splice(0);
    // Only a look that began after drainAndStop may end it: an older one read an older queue.
    const draining = this.drainDeadline !== undefined;
    let next: number;
    try {
      const { delay, empty } = await this.lookOnce(draining);
      next = delay;
      if (empty) this.settle(drainWaiters.splice(0));
    } catch (error) {
      log('warn', 'local queue not readable', describeError(error));
      next = ERROR_BACKOFF_MS;
    }
    this.newDrainWaiters.unshift(...drainWaiters);
    if (this.wakePending) next = 0;
    if (draining && (next > 0 || Date.now() >= (this.drainDeadline ?? 0))) {
      this.stopped = true;
      this.settleAllWaiters();
      return;
    }
    this.later(next);
  }

  /** Delivers a batch if one is due; answers how long to wait before looking again. */
  private async lookOnce(draining: boolean): Promise<{ delay: number; empty: boolean }> {
    const readiness = await this.queue.readiness();
    if (readiness.visible === 0) {
      if (readiness.live === 0) await this.compactIfDue();
      return { delay: Math.min(readiness.nextVisibleInMs ?? IDLE_POLL_MS, IDLE_POLL_MS), empty: readiness.live === 0 };
    }
    const windowLeft = this.options.batchWindowMs - readiness.oldestVisibleAgeMs;
    // Draining for a stop: no point waiting for a batch to fill.
    if (readiness.visible < this.options.batchSize && windowLeft > 0 && !draining) return { delay: windowLeft, empty: false };
    await this.deliver(await this.queue.receive(this.options.batchSize, this.options.visibilityTimeoutMs, this.options.maxReceiveCount));
    return { delay: 0, empty: false };
  }

  /**
   * PGlite runs no autovacuum: without this, every body ever queued stays in its files. Done
   * when the queue is empty, so it competes with no delivery.
   */
  private async compactIfDue(): Promise<void> {
    const due = this.deletedSinceCompaction >= (this.options.compactAfterDeletes ?? COMPACT_AFTER_DELETES) || (this.deletedSinceCompaction > 0 && Date.now() - this.lastCompaction >= COMPACT_INTERVAL_MS);
    if (!due) return;
    this.deletedSinceCompaction = 0;
    this.lastCompaction = Date.now();
    await this.queue.compact();
  }

  private async deliver(batch: ReceivedQueueMessage[]): Promise<void> {
    if (batch.length === 0) return;
    let failedIds: Set<string>;
    let reason: string;
    try {
      const response = await this.consume({ Records: batch.map(toSqsRecord) }, { awsRequestId: randomUUID() });
      failedIds = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      reason = 'the consumer reported the record as failed';
    } catch (error) {
      failedIds = new Set(batch.map((message) => message.messageId));
      reason = `the consumer failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    const done = batch.filter((message) => !failedIds.has(message.messageId));
    const exhausted = batch.filter((message) => failedIds.has(message.messageId) && message.receiveCount >= this.options.maxReceiveCount);
    await this.queue.delete(done.map((message) => message.receiptHandle));
    this.deletedSinceCompaction += done.length;
    await this.queue.deadLetter(exhausted.map((message) => message.receiptHandle), `${reason} on receive ${this.options.maxReceiveCount}`);
  }
}

/** An SQS record as the Lambda event source delivers it (also used by tests and benchmarks). */
export function toSqsRecord(message: Pick<ReceivedQueueMessage, 'messageId' | 'body'> & Partial<ReceivedQueueMessage>): SQSRecord {
  const receiveCount = message.receiveCount ?? 1;
  const sentAt = message.sentAt?.getTime() ?? Date.now();
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle ?? message.messageId,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt?.getTime() ?? sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:events',
    awsRegion: 'local',
  };
}
