import { eventsOfFilter, filterKey, frameEvents, type StreamMessage, type StreamSubscription } from '../../domain/live-stream.js';
import { streamedEventsOfRows, type StreamedEvent } from '../../domain/streamed-events.js';
import type { StoredEventBatch, StoredEventPublisher } from '../../ports/stored-event-publisher.js';

/** Where a subscriber's frames go: a WebSocket locally, anything with a send buffer in tests. */
export interface StreamSink {
  /** Bytes handed to the socket and not yet written to the network. */
  bufferedBytes(): number;
  /**
   * Text frames, JSON each, as strings or already UTF-8 (the same buffers go to every subscriber
   * of a filter), written to the network together: one write for a delivery's frames.
   */
  send(frames: ReadonlyArray<string | Buffer>): void;
}

export interface LiveStreamSettings {
  /** Events kept per tenant for a reconnecting subscriber to resume from. */
  recentEventsPerTenant: number;
  /** A tenant's events are kept for resumes this long after its last subscriber left. */
  resumeWindowMs: number;
  /** A subscriber with more than this unwritten loses events (counted) until it catches up. */
  subscriberBufferBytes: number;
}

export type StreamedTenants = Array<[tenantId: string, until: number | null]>;

interface Subscriber {
  sink: StreamSink;
  subscription: StreamSubscription;
  /** The tenant's position (events remembered in all) when it subscribed: what came later it was sent live. */
  subscribedAt: number;
  /** Lost since the last message this subscriber was sent, and since it subscribed. */
  dropped: number;
  droppedTotal: number;
}

interface TenantStream {
  /** By filter key: a delivery filters and frames once per distinct filter. */
  subscribers: Map<string, Set<Subscriber>>;
  recent: StreamedEvent[];
  /** Events trimmed off the front of `recent`: `recent[i]` is the tenant's event number `trimmed + i`. */
  trimmed: number;
  /** When the last subscriber left; undefined while any is connected. */
  idleSince?: number;
}

/** A subscriber's end of the hub: leave, or be sent what it missed before it subscribed. */
export interface HubSubscription {
  unsubscribe(): void;
  /** The tenant's recent events after `after` up to this subscription, then `resumed`: the `resume` client frame. */
  resume(after: string): void;
}

const send = (sink: StreamSink, message: StreamMessage) => sink.send([JSON.stringify(message)]);

/** Events as the frames that carry them, encoded once. */
interface Framed {
  count: number;
  frames: Buffer[];
}

const framedEvents = (events: readonly StreamedEvent[]): Framed => ({
  count: events.length,
  frames: frameEvents(events).map((frame) => Buffer.from(frame)),
});

/**
 * The local live stream: subscribers per tenant and a bounded buffer of each tenant's recent
 * events, in the HTTP side's thread. It is the writer's publisher: the writer keeps its staged
 * rows only for tenants here, those with a subscriber or one that left less than the resume
 * window ago (so a reconnect finds what it missed). Delivery never waits: a delivery's frames
 * are handed to the socket, or, when that subscriber's socket holds more than its bound,
 * dropped and counted, and the count is sent before its next events.
 */
export class LiveStreamHub implements StoredEventPublisher {
  private readonly tenants = new Map<string, TenantStream>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly settings: LiveStreamSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Adds a subscriber; with `after` it is first sent the tenant's recent events since that one.
   * Synchronous, as a delivery is: nothing stored in between can be missed or sent twice. A later
   * `resume` replays only up to the moment it subscribed, since it was sent the rest live.
   */
  subscribe(tenantId: string, subscription: StreamSubscription, sink: StreamSink): HubSubscription {
    const tenant = this.tenantStream(tenantId);
    const key = filterKey(subscription.filter);
    const subscriber: Subscriber = { sink, subscription, subscribedAt: tenant.trimmed + tenant.recent.length, dropped: 0, droppedTotal: 0 };
    send(sink, { type: 'subscribed', filter: subscription.filter });
    if (subscription.after !== undefined) this.replay(tenant, subscriber, subscription.after);
    const sameFilter = tenant.subscribers.get(key) ?? new Set<Subscriber>();
    sameFilter.add(subscriber);
    tenant.subscribers.set(key, sameFilter);
    delete tenant.idleSince;
    this.changed();
    return {
      unsubscribe: () => {
        if (!sameFilter.delete(subscriber)) return;
        if (sameFilter.size === 0 && tenant.subscribers.get(key) === sameFilter) tenant.subscribers.delete(key);
        if (tenant.subscribers.size === 0) tenant.idleSince = this.now();
        this.changed();
      },
      resume: (after) => this.replay(tenant, subscriber, after),
    };
  }

  async subscribedTenants(tenantIds: readonly string[]): Promise<ReadonlySet<string>> {
    this.forgetIdleTenants();
    return new Set(tenantIds.filter((tenantId) => this.tenants.has(tenantId)));
  }

  /**
   * Each streamed tenant and until when its events are wanted: null while it has a subscriber,
   * else the end of its resume window. What another thread needs to answer `subscribedTenants`.
   */
  streamedUntil(): StreamedTenants {
    this.forgetIdleTenants();
    return [...this.tenants].map(([tenantId, tenant]) => [tenantId, tenant.idleSince === undefined ? null : tenant.idleSince + this.settings.resumeWindowMs]);
  }

  /** Called when the set of streamed tenants may have changed (the writer thread's copy of it). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Hands the batches off and returns: a writer in this thread (PGlite) goes on with its delivery
   * at once, and the fan-out runs on the next turn of the event loop, whole, so that a subscribe
   * or a resume comes before or after a delivery, never in the middle of one.
   */
  async publish(batches: readonly StoredEventBatch[]): Promise<void> {
    setImmediate(() => this.deliver(batches));
  }

  /**
   * The fan-out of a commit; the writer thread's relay calls it as messages arrive. The events
   * are made here, in the HTTP side's thread, from the rows the writer staged: the writer's
   * thread only passes strings on.
   */
  deliver(batches: readonly StoredEventBatch[]): void {
    for (const { tenantId, rows, storedAt, notNew } of batches) {
      const tenant = this.tenants.get(tenantId);
      if (!tenant) continue;
      const events = streamedEventsOfRows(rows, storedAt, new Set(notNew));
      if (events.length === 0) continue;
      this.remember(tenant, events);
      // Each event's JSON is made once, and filtered and framed once per distinct filter, however
      // many subscribers share it: fan-out is then one socket write per subscriber (a write per
      // frame cost the server's thread 22-24 ms per 1,000 events to 49 readers, one per delivery
      // 6-18 ms; docs/benchmarks.md, Live stream).
      for (const sameFilter of tenant.subscribers.values()) {
        const [first] = sameFilter;
        if (!first) continue;
        const framed = framedEvents(eventsOfFilter(events, first.subscription.filter));
        for (const subscriber of sameFilter) this.sendFramed(subscriber, framed);
      }
    }
  }

  private sendFramed(subscriber: Subscriber, { count, frames }: Framed): void {
    if (count === 0) return;
    if (subscriber.sink.bufferedBytes() > this.settings.subscriberBufferBytes) {
      subscriber.dropped += count;
      subscriber.droppedTotal += count;
      return;
    }
    if (subscriber.dropped === 0) {
      subscriber.sink.send(frames);
      return;
    }
    subscriber.sink.send([JSON.stringify({ type: 'dropped', count: subscriber.dropped, total: subscriber.droppedTotal } satisfies StreamMessage), ...frames]);
    subscriber.dropped = 0;
  }

  private replay(tenant: TenantStream, subscriber: Subscriber, after: string): void {
    const seen = tenant.recent.findLastIndex((event) => event.eventId === after);
    const end = subscriber.subscribedAt - tenant.trimmed;
    const missed = seen < 0 ? [] : eventsOfFilter(tenant.recent.slice(seen + 1, Math.max(seen + 1, end)), subscriber.subscription.filter);
    this.sendFramed(subscriber, framedEvents(missed));
    send(subscriber.sink, { type: 'resumed', after, replayed: missed.length, complete: seen >= 0 });
  }

  private remember(tenant: TenantStream, events: StreamedEvent[]): void {
    tenant.recent.push(...events);
    // Trimmed in steps of a tenth, not on every event: splice moves the whole array.
    const limit = this.settings.recentEventsPerTenant;
    if (tenant.recent.length > limit + Math.ceil(limit / 10)) tenant.trimmed += tenant.recent.splice(0, tenant.recent.length - limit).length;
  }

  private tenantStream(tenantId: string): TenantStream {
    let tenant = this.tenants.get(tenantId);
    if (!tenant) {
      tenant = { subscribers: new Map(), recent: [], trimmed: 0 };
      this.tenants.set(tenantId, tenant);
    }
    return tenant;
  }

  private forgetIdleTenants(): void {
    const cutOff = this.now() - this.settings.resumeWindowMs;
    let forgot = false;
    for (const [tenantId, tenant] of this.tenants) {
      if (tenant.idleSince !== undefined && tenant.idleSince <= cutOff) {
        this.tenants.delete(tenantId);
        forgot = true;
      }
    }
    if (forgot) this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
