import { mintToken } from '../../lambdas/shared/adapters/jwt/mint-token.js';
import { loadLocalConfig, type LocalConfig } from '../../lambdas/shared/config.js';
import type { Scope } from '../../lambdas/shared/domain/caller.js';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../bin/local-runtime/runtime.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const TEST_SECRET = 'integration-test-secret-of-32-characters!';

export interface RunningRuntime {
  runtime: LocalRuntime;
  testDb: TestDatabase;
  token(tenantId: string, scopes?: Scope[]): Promise<string>;
  stop(): Promise<void>;
}

/** The local runtime on a test database of its own, on a free port, with a fast queue. */
export async function startTestRuntime(overrides: Partial<LocalRuntimeOptions> = {}): Promise<RunningRuntime> {
  const testDb = await createTestDatabase();
  const config = loadLocalConfig({});
  const runtime = await startLocalRuntime({
    ...config,
    port: 0,
    db: testDb.db,
    auth: { jwtSecret: TEST_SECRET },
    queue: { batchSize: 10, batchWindowMs: 10, maxReceiveCount: 5, visibilityTimeoutMs: 50 },
    // Out of the way of contract tests that send fast; the rate-limit tests set their own.
    rateLimits: { requests: { ratePerSecond: 10_000, burst: 10_000 }, events: { ratePerSecond: 1_000_000, burst: 1_000_000 } },
    inMemory: true,
    ...overrides,
    // A writer thread opens its own pool on the test database (Postgres only: PGlite has no URL).
    ...(overrides.writerThread ? { database: { ...config.database, databaseUrl: testDb.url } } : {}),
  });
  return {
    runtime,
    testDb,
    token: (tenantId, scopes = ['events:write', 'events:read']) => mintToken({ secret: TEST_SECRET, tenantId, subject: 'tester', scopes }),
    async stop() {
      await runtime.close();
      await testDb.drop();
    },
  };
}
