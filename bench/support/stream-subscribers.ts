// The live-stream bench's subscribers, in a process of their own (bench/live-stream.ts forks it):
// users' browsers are not on the server's event loop, and here they are not on the load
// generator's either. Commanded over IPC; times are CLOCK_MONOTONIC (process.hrtime), which
// every process on the machine shares, so the parent can subtract its own from them.
import { WebSocket } from 'ws';
import { z } from 'zod';
import { streamSubprotocols } from '../../lambdas/shared/domain/stream-credential.js';

export const SubscribersCommandSchema = z.discriminatedUnion('type', [
  /** The first subscriber never reads: its socket backs up, as a dead browser tab's does. */
  /** `query`: the subscription's filter parameters, as a query string (`types=ERROR`). */
  z.strictObject({ type: z.literal('connect'), url: z.string(), token: z.string(), query: z.string(), count: z.number().int().positive() }),
  /** While on, each reading subscriber keeps every event's arrival time (the latency phase). */
  z.strictObject({ type: z.literal('timing'), on: z.boolean() }),
  z.strictObject({ type: z.literal('disconnect') }),
]);
export type SubscribersCommand = z.infer<typeof SubscribersCommandSchema>;

export interface SubscribersReport {
  type: 'disconnected';
  /** Per reading subscriber, [eventId, arrival ms] for the events received while timing. */
  arrivals: Array<Array<[string, number]>>;
  /** What the reading subscribers received in all: bytes, events, and events the server told them it dropped. */
  bytes: number;
  events: number;
  dropped: number;
}

export type SubscribersReply = { type: 'connected' } | SubscribersReport;

export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Subscriber {
  socket: WebSocket;
  arrivals: Array<[string, number]>;
}

const DROPPED_PREFIX = Buffer.from('{"type":"dropped"');
/** How every event's JSON starts (`streamedEventsOfRows`): counted without parsing the frame. */
const EVENT_START = Buffer.from('{"eventId":');
/** Before disconnecting, the subscribers read until nothing came for this long (at most SETTLE_MAX_MS). */
const QUIET_MS = 300;
const SETTLE_MAX_MS = 10_000;
const send = (reply: SubscribersReply) => process.send?.(reply);

let subscribers: Subscriber[] = [];
let timing = false;
let bytes = 0;
let events = 0;
let dropped = 0;
let lastArrival = 0;

async function subscribe(url: string, token: string, query: string, reading: boolean): Promise<Subscriber> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream${query ? `?${query}` : ''}`, streamSubprotocols(token));
  const subscriber: Subscriber = { socket, arrivals: [] };
  await new Promise<void>((resolve, reject) => {
    socket.once('message', () => resolve());
    socket.once('error', reject);
  });
  socket.on('message', (data: Buffer) => {
    // The one that never reads may still be handed a frame or two it had received before pausing.
    if (!reading) return;
    bytes += data.byteLength;
    lastArrival = monotonicMs();
    // Outside the latency phase only the rare `dropped` message is parsed: the rest is counted.
    if (data.subarray(0, DROPPED_PREFIX.length).equals(DROPPED_PREFIX)) dropped += (JSON.parse(data.toString()) as { count: number }).count;
    for (let at = data.indexOf(EVENT_START); at >= 0; at = data.indexOf(EVENT_START, at + EVENT_START.length)) events += 1;
    if (!timing) return;
    const now = monotonicMs();
    const message = JSON.parse(data.toString()) as { events?: Array<{ eventId: string }> };
    for (const stored of message.events ?? []) subscriber.arrivals.push([stored.eventId, now]);
  });
  if (!reading) socket.pause();
  return subscriber;
}

process.on('message', (message: unknown) => {
  const command = SubscribersCommandSchema.parse(message);
  if (command.type === 'timing') timing = command.on;
  else if (command.type === 'connect') {
    void (async () => {
      for (let index = 0; index < command.count; index += 1) subscribers.push(await subscribe(command.url, command.token, command.query, index > 0));
      send({ type: 'connected' });
    })();
  } else void disconnect();
});

/** Once what the server sent has arrived (the writer's round ends before its last frames are read). */
async function disconnect(): Promise<void> {
  const started = monotonicMs();
  while (monotonicMs() - lastArrival < QUIET_MS && monotonicMs() - started < SETTLE_MAX_MS) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const { socket } of subscribers) socket.terminate();
  send({ type: 'disconnected', arrivals: subscribers.slice(1).map((subscriber) => subscriber.arrivals), bytes, events, dropped });
  subscribers = [];
  bytes = 0;
  events = 0;
  dropped = 0;
}
process.on('disconnect', () => process.exit(0));
