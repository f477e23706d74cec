import type { DynamoDBStreamEvent } from 'aws-lambda';
import { readOutboxRecord } from '../shared/adapters/dynamodb/dynamo-stream-outbox.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import { log } from '../shared/logger.js';
import type { StreamedEventBatch } from '../shared/ports/stored-event-publisher.js';
import { fanOutStoredEvents, type FanOutDeps } from '../shared/use-cases/fan-out-stored-events.js';
import { awsFanOutDeps } from '../shared/wiring/aws.js';

/**
 * The stream outbox's DynamoDB stream: the stored events the writer put there, posted to their
 * tenant's connections. Outside the VPC, so that it reaches the management endpoint. A tenant's
 * items of one invocation are merged, in order, so its connections are read once. It does not
 * throw for a lost frame or an unreadable record: a failed invocation is retried by the event
 * source a bounded number of times, then its records are dropped (best effort).
 */
export function createHandler(deps: FanOutDeps) {
  return async (event: DynamoDBStreamEvent): Promise<void> => {
    const byTenant = new Map<string, StreamedEventBatch>();
    for (const record of event.Records) {
      const batch = readOutboxRecord(record);
      if (!batch) continue;
      const merged = byTenant.get(batch.tenantId);
      if (merged) merged.events.push(...batch.events);
      else byTenant.set(batch.tenantId, batch);
    }
    const outcome = await fanOutStoredEvents(deps, [...byTenant.values()]);
    log('info', 'stored events fanned out', { records: event.Records.length, tenants: byTenant.size, ...outcome });
  };
}

export const handler = lazyHandler(async () => createHandler(awsFanOutDeps()));
