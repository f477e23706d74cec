import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { countEventTypes } from '../shared/domain/queue-messages.js';
import { log } from '../shared/logger.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { emitCounts, emitCountsByEventType, METRIC } from '../shared/metrics.js';
import type { EventStore } from '../shared/ports/event-store.js';
import { NO_SUBSCRIBERS, type StoredEventPublisher } from '../shared/ports/stored-event-publisher.js';
import type { LiveCounterFlusher } from '../shared/use-cases/flush-live-counters.js';
import { writeQueuedEvents } from '../shared/use-cases/write-queued-events.js';
import { awsCounterFlusher, awsEventStore, awsStoredEventPublisher } from '../shared/wiring/aws.js';

/**
 * SQS event source with ReportBatchItemFailures: only the records named here come back. After
 * the commit the publisher gets the new events of tenants someone streams, and the live
 * counters the deltas the write left in the outbox (and any an earlier writer left there);
 * neither ever fails the delivery. A database that could not be reached for the write is not
 * asked again for the flush: a second wait would outlast the timeout.
 */
export function createWriteEventsHandler(store: EventStore, counters: Pick<LiveCounterFlusher, 'flush'>, publisher: StoredEventPublisher = NO_SUBSCRIBERS) {
  return async (event: SQSEvent, context: Pick<Context, 'awsRequestId'>): Promise<SQSBatchResponse> => {
    const outcome = await writeQueuedEvents(
      store,
      event.Records.map((record) => ({ messageId: record.messageId, body: record.body })),
      publisher,
    );
    const flushed = outcome.databaseUnreachable ? { applied: 0 } : await counters.flush();
    for (const failure of outcome.failed) log('warn', 'record not written', { requestId: context.awsRequestId, ...failure });
    log('info', 'batch written', { requestId: context.awsRequestId, records: event.Records.length, stored: outcome.stored, duplicates: outcome.duplicates, failed: outcome.failed.length, countersApplied: flushed.applied });
    const failedIds = new Set(outcome.failed.map((failure) => failure.messageId));
    emitCounts({ [METRIC.queueRecordsFailed]: outcome.failed.length });
    emitCountsByEventType(METRIC.eventsWritten, countEventTypes(event.Records.filter((record) => !failedIds.has(record.messageId)).map((record) => record.body)));
    return { batchItemFailures: outcome.failed.map((failure) => ({ itemIdentifier: failure.messageId })) };
  };
}

export const handler = lazyHandler(async () => createWriteEventsHandler(await awsEventStore(), await awsCounterFlusher(), awsStoredEventPublisher()));
