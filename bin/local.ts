import { join } from 'node:path';
import { DataDirInUseError, lockDataDir } from '../lambdas/shared/adapters/local/data-dir-lock.js';
import { devSecret } from '../lambdas/shared/adapters/local/dev-secret.js';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { ConfigError, loadLocalConfig } from '../lambdas/shared/config.js';

const DEV_TENANT = '00000000-0000-4000-8000-000000000001';
/** Inside the 10 s Docker and systemd allow between SIGTERM and SIGKILL. */
const STOP_LIMIT_MS = 9000;

async function main(): Promise<void> {
  // Before the runtime's modules load: some handlers read their settings at import, and a bad
  // value must be reported with all the others, as a message.
  const config = loadLocalConfig();
  const lock = await lockDataDir(config.dataDir);
  const { startLocalRuntime } = await import('./local-runtime/runtime.js');
  const generated = !config.auth.jwtSecret && !config.auth.jwksUrl;
  const jwtSecret = config.auth.jwtSecret ?? (config.auth.jwksUrl ? undefined : await devSecret(config.dataDir));
  const runtime = await startLocalRuntime({ ...config, auth: { ...config.auth, jwtSecret }, writerThread: true }).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });

  // A signal to the process group reaches this process once from the terminal or `kill` and
  // again from npm relaying it: the first one stops, later ones only say so (the default
  // action of a second SIGTERM would be to die mid-delivery).
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log(`${signal}: already stopping`);
      return;
    }
    console.log(`${signal}: finishing requests and the delivery under way, then stopping`);
    // A delivery or a close that hangs must not outlive the 10 s before a SIGKILL: nothing
    // accepted is lost by exiting, it is still queued for the next start.
    setTimeout(() => {
      console.error(`Not stopped after ${STOP_LIMIT_MS} ms; exiting. What is still queued is delivered on the next start.`);
      process.exit(1);
    }, STOP_LIMIT_MS).unref();
    stopping = runtime
      .close()
      .then(() => lock.release())
      .then(
        () => {
          console.log('Stopped cleanly; anything still queued is delivered on the next start.');
          process.exit(0);
        },
        (error: unknown) => {
          console.error('Stopped with an error:', error);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // Built before the first visit, so the dashboard's first load does not wait for esbuild; a
  // build error is printed and the API keeps serving.
  await runtime.web.prepare().catch((error: unknown) => console.error('The dashboard did not build:', error));
  console.log(`Event tracker listening on ${runtime.url} (dashboard at ${runtime.url}/)`);
  console.log(`Database: ${config.database.databaseUrl ? 'DATABASE_URL' : `embedded PGlite in ${join(config.dataDir, 'pgdata')}`}`);
  if (runtime.appliedMigrations.length > 0) console.log(`Applied migrations: ${runtime.appliedMigrations.join(', ')}`);
  if (jwtSecret) {
    const token = await mintToken({ secret: jwtSecret, tenantId: DEV_TENANT, subject: 'dev', scopes: ['events:write', 'events:read', 'admin'], issuer: config.auth.issuer, audience: config.auth.audience?.[0] });
    console.log(`${generated ? 'Dev secret kept in ' + join(config.dataDir, 'jwt-secret') + '. ' : ''}Dev token (tenant ${DEV_TENANT}, 12 h):`);
    console.log(token);
    console.log(`Try: curl -s -X POST ${runtime.url}/v1/events -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"type":"CUSTOM","category":"demo","action":"hello"}'`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof DataDirInUseError ? error.message : error);
  process.exit(1);
});
