import { MAX_FUTURE_SKEW_MS } from './limits.js';

export interface TimestampInput {
  clientTimestamp?: string;
  sentAt?: string;
  receivedAt: Date;
}

export interface ResolvedTimestamp {
  timestamp: Date;
  /** The client's own timestamp when the stored one differs from it. */
  originalTimestamp?: string;
}

/**
 * Segment's rule: a device clock may be wrong, but the gap between when an event happened and
 * when its batch was sent is right, so `receivedAt - (sentAt - timestamp)` is the best guess.
 * An event still more than a day ahead is nonsense and takes the receive time.
 */
export function resolveEventTimestamp({ clientTimestamp, sentAt, receivedAt }: TimestampInput): ResolvedTimestamp {
  if (!clientTimestamp) return { timestamp: receivedAt };
  const client = new Date(clientTimestamp);
  const corrected = sentAt
    ? new Date(receivedAt.getTime() - (new Date(sentAt).getTime() - client.getTime()))
    : client;
  if (corrected.getTime() > receivedAt.getTime() + MAX_FUTURE_SKEW_MS) {
    return { timestamp: receivedAt, originalTimestamp: clientTimestamp };
  }
  return corrected.getTime() === client.getTime()
    ? { timestamp: corrected }
    : { timestamp: corrected, originalTimestamp: clientTimestamp };
}
