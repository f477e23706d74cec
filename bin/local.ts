import { join } from 'node:path';
import { devSecret } from '../lambdas/shared/adapters/local/dev-secret.js';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { ConfigError, loadLocalConfig } from '../lambdas/shared/config.js';
import { startLocalRuntime } from '../lambdas/shared/wiring/local.js';

const DEV_TENANT = '00000000-0000-4000-8000-000000000001';

async function main(): Promise<void> {
  const config = loadLocalConfig();
  const generated = !config.auth.jwtSecret && !config.auth.jwksUrl;
  const jwtSecret = config.auth.jwtSecret ?? (config.auth.jwksUrl ? undefined : await devSecret(config.dataDir));
  const runtime = await startLocalRuntime({ ...config, auth: { ...config.auth, jwtSecret } });

  console.log(`Event tracker listening on ${runtime.url}`);
  console.log(`Database: ${config.database.databaseUrl ? 'DATABASE_URL' : `embedded PGlite in ${join(config.dataDir, 'pgdata')}`}`);
  if (runtime.appliedMigrations.length > 0) console.log(`Applied migrations: ${runtime.appliedMigrations.join(', ')}`);
  if (jwtSecret) {
    const token = await mintToken({ secret: jwtSecret, tenantId: DEV_TENANT, subject: 'dev', scopes: ['events:write', 'events:read', 'admin'], issuer: config.auth.issuer, audience: config.auth.audience });
    console.log(`${generated ? 'Dev secret kept in ' + join(config.dataDir, 'jwt-secret') + '. ' : ''}Dev token (tenant ${DEV_TENANT}, 12 h):`);
    console.log(token);
    console.log(`Try: curl -s -X POST ${runtime.url}/v1/events -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"type":"CUSTOM","category":"demo","action":"hello"}'`);
  }

  const stop = () => {
    void runtime.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
