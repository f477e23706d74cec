import type { QueueEnvelope, TrackedEvent } from './event-schemas.js';

export type EnvelopeHeader = Omit<QueueEnvelope, 'events'>;

/**
 * Packs events into as few envelopes as the message size limit allows (greedy, in order).
 * Sizes are summed per event rather than re-serialising the envelope for every addition.
 */
export function packEnvelopes(header: EnvelopeHeader, events: TrackedEvent[], maxMessageBytes: number): QueueEnvelope[] {
  const headerBytes = Buffer.byteLength(JSON.stringify({ ...header, events: [] }));
  const { batchSummary: _firstMessageOnly, ...plainHeader } = header;
  const plainHeaderBytes = Buffer.byteLength(JSON.stringify({ ...plainHeader, events: [] }));
  const envelopes: QueueEnvelope[] = [];
  let current: TrackedEvent[] = [];
  let currentBytes = headerBytes;

  for (const event of events) {
    const eventBytes = Buffer.byteLength(JSON.stringify(event)) + 1;
    if (current.length > 0 && currentBytes + eventBytes > maxMessageBytes) {
      envelopes.push(envelopes.length === 0 ? { ...header, events: current } : { ...plainHeader, events: current });
      current = [];
      currentBytes = plainHeaderBytes;
    }
    current.push(event);
    currentBytes += eventBytes;
  }
  if (current.length > 0) {
    envelopes.push(envelopes.length === 0 ? { ...header, events: current } : { ...plainHeader, events: current });
  }
  return envelopes;
}
