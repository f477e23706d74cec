import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { toSqsRecord } from '../../lambdas/shared/adapters/local/queue-event-source.js';
import type { TrackedEvent } from '../../lambdas/shared/domain/event-schemas.js';
import { packMessages } from '../../lambdas/shared/domain/queue-messages.js';
import { csvField } from './csv.js';

export const TENANT = '00000000-0000-4000-8000-00000000beef';
export const SQS_BATCH_SIZE = 10;
const MESSAGE_BYTES = 256 * 1024;

/** The columns the COPY baseline loads, in the order of `toCsv`. */
export const COLUMNS = 'tenant_id, event_id, timestamp, event_type, category, action, label, value, user_id, session_id, properties, context, metadata, received_at';

export function toCsv(events: TrackedEvent[]): string {
  return events
    .map((event) =>
      [TENANT, event.eventId, event.timestamp, event.type, event.category, event.action, event.label, event.value, event.userId, event.sessionId, event.properties, event.context, event.metadata, event.receivedAt]
        .map(csvField)
        .join(','),
    )
    .join('\n');
}

/**
 * What SQS would deliver under a steady stream: full 256 KiB messages, 10 per writer
 * invocation. Packing is the ingest's work and is not timed.
 */
export function toSqsBatches(events: TrackedEvent[], tenantId = TENANT): SQSEvent[] {
  const messages = packMessages({ tenantId, actor: 'bench', requestId: randomUUID() }, events, MESSAGE_BYTES);
  const batches: SQSEvent[] = [];
  for (let index = 0; index < messages.length; index += SQS_BATCH_SIZE) {
    batches.push({ Records: messages.slice(index, index + SQS_BATCH_SIZE).map(({ body }) => toSqsRecord({ messageId: randomUUID(), body })) });
  }
  return batches;
}
