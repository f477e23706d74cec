import { z } from 'zod';
import { EventTypeEnum } from '../shared/domain/event-schemas.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { Replay, ReplayRequest, StreamReplaySource } from '../shared/ports/stream-replay.js';
import { awsStreamReplaySource } from '../shared/wiring/aws.js';

/** A synchronous invocation answers at most 6 MB; the JSON of a replay stays under this. */
export const MAX_REPLAY_ANSWER_BYTES = 5 * 1024 * 1024;

/** Its only caller is `stream-message` (no other principal may invoke it), which read the filter from the connection's row. */
const ReplayRequestSchema = z.strictObject({
  tenantId: z.uuid(),
  after: z.uuid(),
  until: z.iso.datetime(),
  filter: z.strictObject({ types: z.array(EventTypeEnum).optional(), categories: z.array(z.string()).optional(), properties: z.record(z.string(), z.unknown()).optional() }),
});

/**
 * The resume's read of Postgres, in the VPC: the events the tenant stored after the subscriber's
 * last one. A replay too large for the answer is not sent, as one past the event bound is not.
 */
export function createHandler(source: StreamReplaySource) {
  return async (event: unknown): Promise<Replay> => {
    const request: ReplayRequest = ReplayRequestSchema.parse(event);
    const replay = await source.eventsStoredAfter(request);
    return Buffer.byteLength(JSON.stringify(replay)) > MAX_REPLAY_ANSWER_BYTES ? { events: [], complete: false } : replay;
  };
}

export const handler = lazyHandler(async () => createHandler(await awsStreamReplaySource()));
