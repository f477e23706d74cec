import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { consecutiveGroups } from '../../domain/consecutive-groups.js';
import type { QueueMessage } from '../../domain/queue-messages.js';
import type { EnqueueResult, EventQueue } from '../../ports/event-queue.js';

/** SendMessageBatch takes at most 10 entries, whose bodies together fit the message size limit. */
const MAX_ENTRIES_PER_CALL = 10;

export interface SqsQueueOptions {
  maxMessageBytes: number;
  /** Tries per entry, the first included. */
  attempts?: number;
  baseDelayMs?: number;
}

interface Entry {
  message: QueueMessage;
  request: SendMessageBatchRequestEntry;
  bytes: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Splits entries into SendMessageBatch calls that respect both the count and the byte limit. */
export function groupIntoCalls<T extends { bytes: number }>(entries: T[], maxBytes: number): T[][] {
  return consecutiveGroups(entries, (entry) => entry.bytes, maxBytes, MAX_ENTRIES_PER_CALL);
}

/**
 * Sends messages with SendMessageBatch. Entries SQS reports as failed are retried with
 * backoff unless the fault is the sender's (retrying a malformed entry cannot help); what
 * still failed is reported per event so the receipt never claims an event that is not queued.
 */
export class SqsEventQueue implements EventQueue {
  private readonly attempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly options: SqsQueueOptions,
  ) {
    this.attempts = options.attempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 50;
  }

  async enqueue(messages: QueueMessage[]): Promise<EnqueueResult> {
    const entries: Entry[] = messages.map((message, index) => ({
      message,
      request: { Id: String(index), MessageBody: message.body },
      bytes: Buffer.byteLength(message.body),
    }));
    const outcomes = await Promise.all(groupIntoCalls(entries, this.options.maxMessageBytes).map((call) => this.sendWithRetries(call)));
    return {
      failed: outcomes.flat().flatMap(({ entry, reason }) => entry.message.eventIds.map((eventId) => ({ eventId, reason }))),
    };
  }

  private async sendWithRetries(call: Entry[]): Promise<Array<{ entry: Entry; reason: string }>> {
    let pending = call;
    let failures: Array<{ entry: Entry; reason: string; retryable: boolean }> = [];
    for (let attempt = 1; attempt <= this.attempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(this.baseDelayMs * 2 ** (attempt - 2) * (0.5 + Math.random()));
      failures = await this.send(pending);
      pending = failures.filter((failure) => failure.retryable).map((failure) => failure.entry);
    }
    return failures.map(({ entry, reason }) => ({ entry, reason }));
  }

  private async send(entries: Entry[]): Promise<Array<{ entry: Entry; reason: string; retryable: boolean }>> {
    try {
      const result = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries.map((entry) => entry.request) }),
      );
      const byId = new Map(entries.map((entry) => [entry.request.Id, entry]));
      return (result.Failed ?? []).flatMap((failure) => {
        const entry = byId.get(failure.Id);
        return entry ? [{ entry, reason: `${failure.Code ?? 'Failed'}: ${failure.Message ?? 'no message'}`, retryable: !failure.SenderFault }] : [];
      });
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return entries.map((entry) => ({ entry, reason, retryable: true }));
    }
  }
}
