import { parseArgs } from 'node:util';
import { z } from 'zod';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { ConfigError, loadLocalConfig } from '../lambdas/shared/config.js';
import { SCOPES } from '../lambdas/shared/domain/caller.js';
import { devSecret } from '../lambdas/shared/adapters/local/dev-secret.js';

const ArgsSchema = z.object({
  tenant: z.uuid(),
  scope: z.string().default(SCOPES.join(' ')).transform((value) => value.split(/\s+/).filter(Boolean)).pipe(z.array(z.enum(SCOPES)).min(1)),
  subject: z.string().min(1).default('dev'),
  expires: z.string().default('12h'),
});

/** npm run token -- --tenant <uuid> --scope "events:write events:read admin" */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tenant: { type: 'string' }, scope: { type: 'string' }, subject: { type: 'string' }, expires: { type: 'string' } } });
  const args = ArgsSchema.safeParse(values);
  if (!args.success) {
    throw new ConfigError(args.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`));
  }
  const config = loadLocalConfig();
  const secret = config.auth.jwtSecret ?? (await devSecret(config.dataDir));
  console.log(await mintToken({ secret, tenantId: args.data.tenant, subject: args.data.subject, scopes: args.data.scope, expiresIn: args.data.expires, issuer: config.auth.issuer, audience: config.auth.audience }));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
