import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createAuthorizeHandler } from '../../lambdas/authorize/handler.js';
import { createWriteEventsHandler } from '../../lambdas/write-events/handler.js';
import { DynamoLiveCounters } from '../../lambdas/shared/adapters/dynamodb/dynamo-live-counters.js';
import { DynamoWriteKeyStore } from '../../lambdas/shared/adapters/dynamodb/dynamo-write-key-store.js';
import { countersTableDefinition, writeKeysTableDefinition } from '../../lambdas/shared/adapters/dynamodb/tables.js';
import { ensureTables, localDynamoClient, startEmbeddedDynamo, type EmbeddedDynamo } from '../../lambdas/shared/adapters/local/embedded-dynamodb.js';
import { WriterThread, type WriterEventSource } from './writer-thread.js';
import { localMaintenanceDeps, startMaintenanceTimer } from './maintenance.js';
import { webAppServer, type WebAppServer } from './web-app.js';
import { createApiGatewayEmulator, type LocalRoute } from '../../lambdas/shared/adapters/local/api-gateway-emulator.js';
import { LiveStreamHub } from '../../lambdas/shared/adapters/local/live-stream-hub.js';
import { attachLiveStream } from '../../lambdas/shared/adapters/local/live-stream-server.js';
import { QueueEventSource } from '../../lambdas/shared/adapters/local/queue-event-source.js';
import { InMemoryRateLimiter } from '../../lambdas/shared/adapters/local/in-memory-rate-limiter.js';
import { createTokenVerifier } from '../../lambdas/shared/adapters/jwt/jose-token-verifier.js';
import { applyMigrations, readMigrations } from '../../lambdas/shared/adapters/pg/migrations.js';
import { PgCounterOutbox } from '../../lambdas/shared/adapters/pg/pg-counter-outbox.js';
import { PgEventAdmin } from '../../lambdas/shared/adapters/pg/pg-event-admin.js';
import { PgEventQueries } from '../../lambdas/shared/adapters/pg/pg-event-queries.js';
import { PgEventStore } from '../../lambdas/shared/adapters/pg/pg-event-store.js';
import { PgMessageQueue } from '../../lambdas/shared/adapters/pg/pg-message-queue.js';
import { openDatabase, type SqlDatabase } from '../../lambdas/shared/adapters/pg/sql-database.js';
import type { LocalConfig } from '../../lambdas/shared/config.js';
import { ROUTES } from '../../lambdas/routes.js';
import { handlerModule, routePaths, type Routes } from '../../lambdas/shared/adapters/http/route-spec.js';
import type { ApiHandler, StreamingApiHandler } from '../../lambdas/shared/adapters/http/api-gateway.js';
import type { Ports } from '../../lambdas/shared/wiring/ports.js';
import { LiveCounterFlusher } from '../../lambdas/shared/use-cases/flush-live-counters.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');

export interface LocalRuntime {
  url: string;
  db: SqlDatabase;
  queue: PgMessageQueue;
  /** The writer's event source; `drained()` resolves once every queued message is handled. */
  eventSource: WriterEventSource;
  appliedMigrations: string[];
  /** The dashboard at `/`, built on its first request or by `prepare()`. */
  web: WebAppServer;
  /**
   * Stops taking requests, waits for the ones under way, delivers what is queued for at most
   * `drainMs`, then closes everything; what is still queued is delivered on the next start.
   */
  close(drainMs?: number): Promise<void>;
}

/** Docker and systemd allow 10 s between SIGTERM and SIGKILL: drain well inside that. */
const DEFAULT_DRAIN_MS = 5000;
/** The writer thread's source reads, delivers and deletes one step at a time: one connection. */
const WRITER_POOL_SIZE = 1;
/** Keep-alive connections still open this long after a stop are closed. */
const REQUEST_GRACE_MS = 2000;

export interface LocalRuntimeOptions extends LocalConfig {
  /** Use this database instead of opening one (tests share one per file). */
  db?: SqlDatabase;
  /** Keep PGlite in memory instead of DATA_DIR (tests). */
  inMemory?: boolean;
  /**
   * Run the writer in a worker thread with its own pool (`npm start` on DATABASE_URL). PGlite
   * cannot: it lives in the thread that opened it.
   */
  writerThread?: boolean;
  /** The routes to serve (tests add their own); the deployed table by default. */
  routes?: Routes;
}

/** What every HTTP handler module exports besides its Lambda `handler`. */
interface HandlerModule {
  createHandler(ports: Ports): ApiHandler | StreamingApiHandler;
}

/** Each route's handler, from the module the route names, given the ports it picks from. */
async function routeHandlers(routes: Routes, ports: Ports): Promise<LocalRoute[]> {
  const served = await Promise.all(
    Object.entries(routes).map(async ([fn, route]) => {
      const path = join(PROJECT_ROOT, handlerModule(fn, route));
      const module = (await import(pathToFileURL(path).href)) as Partial<HandlerModule>;
      if (typeof module.createHandler !== 'function') throw new Error(`${path} exports no createHandler(ports) for ${route.method} ${route.path}.`);
      const handler = module.createHandler(ports);
      return routePaths(route).map((resource) => ({ method: route.method, path: resource, authorized: route.scope !== undefined, anyOrigin: route.cors === 'any-origin', handler }));
    }),
  );
  return served.flat();
}

/** dynalite in DATA_DIR (or memory) unless DYNAMODB_ENDPOINT names a DynamoDB to use. */
async function openDynamo(options: LocalRuntimeOptions): Promise<{ endpoint: string; embedded?: EmbeddedDynamo }> {
  if (options.dynamo.endpoint) return { endpoint: options.dynamo.endpoint };
  const embedded = await startEmbeddedDynamo(options.inMemory ? undefined : join(options.dataDir, 'dynamodb'));
  return { endpoint: embedded.endpoint, embedded };
}

/**
 * `npm start`: the deployed handlers, wired to embedded parts. Postgres is PGlite in DATA_DIR
 * unless DATABASE_URL is set; SQS is a table of that same database with an event source that
 * calls the writer; DynamoDB (write keys, live counters) is dynalite unless DYNAMODB_ENDPOINT is
 * set; the rate buckets are in memory.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const db =
    options.db ??
    (await openDatabase({
      databaseUrl: options.database.databaseUrl,
      poolSize: options.database.poolSize,
      pgliteDataDir: options.inMemory ? undefined : join(options.dataDir, 'pgdata'),
    }));
  const appliedMigrations = await applyMigrations(db, await readMigrations(MIGRATIONS_DIR));
  const dynamo = await openDynamo(options);
  const dynamoClient = localDynamoClient(dynamo.endpoint);
  await ensureTables(dynamoClient, [writeKeysTableDefinition(options.dynamo.writeKeysTable), countersTableDefinition(options.dynamo.countersTable)]);
  const liveCounters = new DynamoLiveCounters(dynamoClient, options.dynamo.countersTable, options.liveCounters);
  const limiter = new InMemoryRateLimiter(options.rateLimits);
  const writeKeys = new DynamoWriteKeyStore(dynamoClient, options.dynamo.writeKeysTable);
  const { databaseUrl } = options.database;
  const writesHere = !(options.writerThread && databaseUrl);
  // The writer keeps the event sets of what it wrote; the writer thread has a store of its own.
  const store = new PgEventStore(db, { keepPendingSets: writesHere });
  const queries = new PgEventQueries(db);
  const admin = new PgEventAdmin(db);
  const queue = await PgMessageQueue.open(db);
  let eventSource: WriterEventSource;
  const hub = new LiveStreamHub(options.stream);
  if (!writesHere && databaseUrl) {
    const thread = new WriterThread(
      {
        databaseUrl,
        poolSize: WRITER_POOL_SIZE,
        queue: options.queue,
        liveCounters: { endpoint: dynamo.endpoint, table: options.dynamo.countersTable, settings: options.liveCounters },
      },
      hub,
    );
    queue.onSent(() => thread.wake());
    eventSource = thread;
  } else {
    const counters = new LiveCounterFlusher(new PgCounterOutbox(db), liveCounters, options.liveCounters);
    eventSource = new QueueEventSource(queue, createWriteEventsHandler(store, counters, hub), options.queue);
  }
  const ports: Ports = {
    store,
    queries,
    admin,
    writeKeys,
    queue,
    limiter,
    liveCounters,
    liveCounterSettings: options.liveCounters,
    ingest: options.ingest,
    query: options.ingest,
    retention: options.retention,
    http: { corsOrigins: options.corsOrigins },
    routes: options.routes ?? ROUTES,
  };
  const routes = await routeHandlers(ports.routes, ports);
  const authorize = createAuthorizeHandler(createTokenVerifier(options.auth), writeKeys);
  const web = webAppServer(options.dashboardSignIn);
  const server = createApiGatewayEmulator(routes, authorize, ports.http.corsOrigins, undefined, web.serve);
  const stream = attachLiveStream(server, authorize, hub, options.stream.heartbeatMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  }).catch(async (error: unknown) => {
    await stream.close();
    dynamoClient.destroy();
    await dynamo.embedded?.close();
    if (!options.db) await db.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  eventSource.start();
  const maintenance = startMaintenanceTimer(localMaintenanceDeps(db, options), options.maintenanceIntervalMs);

  return {
    url: `http://127.0.0.1:${port}`,
    db,
    queue,
    eventSource,
    appliedMigrations,
    web,
    async close(drainMs = DEFAULT_DRAIN_MS) {
      // Upgraded sockets would hold the HTTP server's close open.
      await stream.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), REQUEST_GRACE_MS);
      await closed;
      clearTimeout(grace);
      await maintenance.stop();
      await eventSource.drainAndStop(drainMs);
      await store.stopKeeping();
      dynamoClient.destroy();
      await dynamo.embedded?.close();
      if (!options.db) await db.close();
    },
  };
}
