import { Worker } from 'node:worker_threads';
import type { EventSourceOptions } from '../adapters/local/queue-event-source.js';
import { describeError, log } from '../logger.js';

/** What the local runtime needs of the writer's event source, in this thread or another. */
export interface WriterEventSource {
  start(): void;
  wake(): void;
  drained(): Promise<void>;
  drainAndStop(deadlineMs: number): Promise<void>;
}

export interface WriterThreadData {
  databaseUrl: string;
  poolSize: number;
  queue: EventSourceOptions;
}

export type WriterThreadRequest = { type: 'wake' } | { type: 'drained'; id: number } | { type: 'stop'; drainMs: number };
export type WriterThreadReply = { type: 'ready' } | { type: 'drained'; id: number } | { type: 'stopped' };

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

  constructor(private readonly data: WriterThreadData) {}

  start(): void {
    // The local runtime runs TypeScript through tsx, whose hooks a worker does not inherit (nor
    // take from execArgv on Node 20): the worker imports its entry through tsx's API.
    const entry = new URL('./writer-thread-main.ts', import.meta.url).href;
    const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(bootstrap, { eval: true, workerData: this.data });
    this.worker = worker;
    worker.on('message', (reply: WriterThreadReply) => {
      if (reply.type === 'drained') {
        this.waiting.get(reply.id)?.();
        this.waiting.delete(reply.id);
      } else if (reply.type === 'stopped') this.stopped?.();
    });
    worker.on('error', (error) => log('error', 'writer thread failed', describeError(error)));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.stopping) {
        this.stopped?.();
        return;
      }
      log('error', 'writer thread exited; starting another', { exitCode: code });
      setTimeout(() => this.start(), RESTART_DELAY_MS).unref();
    });
  }

  wake(): void {
    this.post({ type: 'wake' });
  }

  drained(): Promise<void> {
    if (!this.worker) return Promise.resolve();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ type: 'drained', id });
    });
  }

  async drainAndStop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      this.stopped = resolve;
      this.post({ type: 'stop', drainMs: deadlineMs });
    });
    await worker.terminate();
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }

  private post(request: WriterThreadRequest): void {
    this.worker?.postMessage(request);
  }
}
