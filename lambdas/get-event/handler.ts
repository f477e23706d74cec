import { z } from 'zod';
import { authorizedCaller, httpHandler, jsonResponse } from '../shared/adapters/http/api-gateway.js';
import { parseInput } from '../shared/domain/zod-issues.js';
import { lazyHandler } from '../shared/lazy-handler.js';
import type { EventStore } from '../shared/ports/event-store.js';
import type { RateLimiter } from '../shared/ports/rate-limiter.js';
import { getEvent } from '../shared/use-cases/get-event.js';
import { awsEventStore, awsRateLimiter } from '../shared/wiring/aws.js';

const PathSchema = z.object({ eventId: z.uuid() });

/** GET /v1/events/{eventId}: the caller's tenant only. */
export function createGetEventHandler(store: EventStore, limiter: RateLimiter) {
  return httpHandler(async (event) => {
    const caller = authorizedCaller(event, 'events:read');
    const { eventId } = parseInput(PathSchema, event.pathParameters ?? {});
    return jsonResponse(200, await getEvent(store, caller.tenantId, eventId));
  }, { limiter });
}

export const handler = lazyHandler(async () => createGetEventHandler(await awsEventStore(), awsRateLimiter()));
