import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueMessage } from '../../domain/queue-messages.js';
import type { EnqueueResult, EventQueue } from '../../ports/event-queue.js';

export interface InProcessQueueOptions {
  /** Records per consumer call, like an SQS event source's BatchSize. */
  batchSize: number;
  /** How long a partial batch waits for more records (MaximumBatchingWindowInSeconds). */
  batchWindowMs: number;
  /** Receives before a record moves to the dead-letter list (the DLQ's maxReceiveCount). */
  maxReceiveCount: number;
  /** How long a failed record stays invisible before it is delivered again. */
  visibilityTimeoutMs: number;
}

/** The writer handler's shape: an SQS event and the invocation's request id. */
export type QueueConsumer = (event: SQSEvent, context: { awsRequestId: string }) => Promise<SQSBatchResponse>;

interface Message {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: number;
  visibleAt: number;
}

/**
 * The local stand-in for SQS plus its Lambda event source: batches by size or window, one
 * consumer call at a time, redelivery of the records the consumer reports as failed (or of
 * the whole batch if it throws) and a dead-letter list after `maxReceiveCount` receives.
 */
export class InProcessEventQueue implements EventQueue {
  readonly deadLetters: Message[] = [];
  private readonly messages: Message[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly consume: QueueConsumer,
    private readonly options: InProcessQueueOptions,
  ) {}

  async enqueue(messages: QueueMessage[]): Promise<EnqueueResult> {
    if (this.closed) {
      return { failed: messages.flatMap((message) => message.eventIds.map((eventId) => ({ eventId, reason: 'queue closed' }))) };
    }
    const now = Date.now();
    for (const { body } of messages) {
      this.messages.push({ messageId: randomUUID(), body, receiveCount: 0, sentAt: now, visibleAt: now });
    }
    this.schedule();
    return { failed: [] };
  }

  /** Messages not yet deleted, in flight ones included. */
  get depth(): number {
    return this.messages.length;
  }

  /** Resolves once every message has been deleted or dead-lettered. */
  drained(): Promise<void> {
    if (this.messages.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private schedule(): void {
    if (this.closed || this.running) return;
    clearTimeout(this.timer);
    const now = Date.now();
    const visible = this.messages.filter((message) => message.visibleAt <= now);
    if (visible.length === 0) {
      const next = Math.min(...this.messages.map((message) => message.visibleAt));
      if (Number.isFinite(next)) this.timer = setTimeout(() => this.schedule(), next - now);
      else for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    const oldest = Math.min(...visible.map((message) => Math.max(message.sentAt, message.visibleAt)));
    const windowLeft = oldest + this.options.batchWindowMs - now;
    if (visible.length >= this.options.batchSize || windowLeft <= 0) {
      void this.deliver(visible.slice(0, this.options.batchSize));
    } else {
      this.timer = setTimeout(() => this.schedule(), windowLeft);
    }
  }

  private async deliver(batch: Message[]): Promise<void> {
    this.running = true;
    const now = Date.now();
    for (const message of batch) {
      message.receiveCount += 1;
      message.visibleAt = now + this.options.visibilityTimeoutMs;
    }
    let failedIds: Set<string>;
    try {
      const response = await this.consume({ Records: batch.map(toSqsRecord) }, { awsRequestId: randomUUID() });
      failedIds = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    } catch {
      failedIds = new Set(batch.map((message) => message.messageId));
    }
    for (const message of batch) {
      if (!failedIds.has(message.messageId)) this.remove(message);
      else if (message.receiveCount >= this.options.maxReceiveCount) {
        this.remove(message);
        this.deadLetters.push(message);
      }
    }
    this.running = false;
    this.schedule();
  }

  private remove(message: Message): void {
    this.messages.splice(this.messages.indexOf(message), 1);
  }
}

/** An SQS record as the Lambda event source delivers it (also used by tests and benchmarks). */
export function toSqsRecord(message: Pick<Message, 'messageId' | 'body'> & Partial<Message>): SQSRecord {
  const receiveCount = message.receiveCount ?? 1;
  const sentAt = message.sentAt ?? Date.now();
  return {
    messageId: message.messageId,
    receiptHandle: message.messageId,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:events',
    awsRegion: 'local',
  };
}
