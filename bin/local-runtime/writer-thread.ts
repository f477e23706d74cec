import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { LiveStreamHub } from '../../lambdas/shared/adapters/local/live-stream-hub.js';
import { describeError, log } from '../../lambdas/shared/logger.js';

/** What the local runtime needs of the writer's event source, in this thread or another. */
export interface WriterEventSource {
  start(): void;
  wake(): void;
  drained(): Promise<void>;
  drainAndStop(deadlineMs: number): Promise<void>;
}

export type WriterThreadData = z.infer<typeof WriterThreadDataSchema>;

export const WriterThreadDataSchema = z.strictObject({
  databaseUrl: z.string().min(1),
  poolSize: z.number().int().positive(),
  /** The DynamoDB the flush of the live counters writes to (the runtime's dynalite). */
  liveCounters: z.strictObject({
    endpoint: z.string().min(1),
    table: z.string().min(1),
    settings: z.strictObject({ shards: z.number().int().positive(), ttlHours: z.number().int().positive() }),
  }),
  queue: z.strictObject({
    batchSize: z.number().int().positive(),
    batchWindowMs: z.number().int().min(0),
    maxReceiveCount: z.number().int().positive(),
    visibilityTimeoutMs: z.number().int().positive(),
    compactAfterDeletes: z.number().int().positive().optional(),
  }),
});

export const WriterThreadRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('wake') }),
  z.strictObject({ type: z.literal('drained'), id: z.number().int() }),
  z.strictObject({ type: z.literal('stop'), drainMs: z.number().int().min(0) }),
  // The live stream's tenants (`LiveStreamHub.streamedUntil`), sent whenever they change.
  z.strictObject({ type: z.literal('streamed-tenants'), tenants: z.array(z.tuple([z.string(), z.number().nullable()])) }),
]);
export type WriterThreadRequest = z.infer<typeof WriterThreadRequestSchema>;

const WriterThreadReplySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('drained'), id: z.number().int() }),
  z.strictObject({ type: z.literal('stopped') }),
  // The rows the writer staged, a string per tenant: cloned as one copy, and made into events by the hub.
  z.strictObject({
    type: z.literal('published'),
    batches: z.array(z.strictObject({ tenantId: z.string(), rows: z.string(), storedAt: z.string(), notNew: z.array(z.string()) })),
  }),
]);
export type WriterThreadReply = z.infer<typeof WriterThreadReplySchema>;

/** A worker that died unexpectedly is replaced after this; the queue kept its messages. */
const RESTART_DELAY_MS = 1000;

/**
 * The writer and its event source in a worker thread with a pool of its own (Postgres only:
 * PGlite lives in one thread). On one event loop, each round trip of a delivery waited behind
 * whatever batch request the HTTP side was validating, tens of milliseconds each; a Lambda
 * writer never shares its container with the ingest either.
 */
export class WriterThread implements WriterEventSource {
  private worker: Worker | undefined;
  private stopping = false;
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  private stopped: (() => void) | undefined;
  private restart: NodeJS.Timeout | undefined;

  /** With a hub, the thread's writer passes on the staged rows of its tenants' new events. */
  constructor(
    private readonly data: WriterThreadData,
    private readonly hub?: LiveStreamHub,
  ) {
    hub?.onChange(() => this.postStreamedTenants());
  }

  start(): void {
    if (this.stopping) return;
    // The local runtime runs TypeScript through tsx, whose hooks a worker does not inherit (nor
    // take from execArgv on Node 20): the worker imports its entry through tsx's API.
    const entry = new URL('./writer-thread-main.ts', import.meta.url).href;
    const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(bootstrap, { eval: true, workerData: this.data });
    this.worker = worker;
    // A new worker after a crash: the waits the old one never answered go to it.
    for (const id of this.waiting.keys()) this.post({ type: 'drained', id });
    this.postStreamedTenants();
    worker.on('message', (message: unknown) => {
      const reply = WriterThreadReplySchema.parse(message);
      if (reply.type === 'drained') {
        this.waiting.get(reply.id)?.();
        this.waiting.delete(reply.id);
      } else if (reply.type === 'published') this.hub?.deliver(reply.batches);
      else if (reply.type === 'stopped') this.stopped?.();
    });
    worker.on('error', (error) => log('error', 'writer thread failed', describeError(error)));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.stopping) {
        this.stopped?.();
        return;
      }
      log('error', 'writer thread exited; starting another', { exitCode: code });
      this.restart = setTimeout(() => this.start(), RESTART_DELAY_MS);
    });
  }

  wake(): void {
    this.post({ type: 'wake' });
  }

  drained(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ type: 'drained', id });
    });
  }

  async drainAndStop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restart);
    const worker = this.worker;
    if (!worker) {
      this.settleWaits();
      return;
    }
    await new Promise<void>((resolve) => {
      this.stopped = resolve;
      this.post({ type: 'stop', drainMs: deadlineMs });
    });
    await worker.terminate();
    this.settleWaits();
  }

  private settleWaits(): void {
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }

  private postStreamedTenants(): void {
    if (this.hub) this.post({ type: 'streamed-tenants', tenants: this.hub.streamedUntil() });
  }

  private post(request: WriterThreadRequest): void {
    this.worker?.postMessage(request);
  }
}
