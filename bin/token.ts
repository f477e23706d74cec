import { parseArgs } from 'node:util';
import { z } from 'zod';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { ConfigError, ENV, loadLocalConfig, type AuthConfig } from '../lambdas/shared/config.js';
import { SCOPES } from '../lambdas/shared/domain/caller.js';
import { devSecretFile, existingDevSecret } from '../lambdas/shared/adapters/local/dev-secret.js';

const ArgsSchema = z.object({
  tenant: z.uuid(),
  scope: z.string().default(SCOPES.join(' ')).transform((value) => value.split(/\s+/).filter(Boolean)).pipe(z.array(z.enum(SCOPES)).min(1)),
  subject: z.string().min(1).default('dev'),
  expires: z.string().default('12h'),
});

/** No secret the server would accept: a token signed with any other is a 401. */
class NoServerSecretError extends Error {
  override readonly name = 'NoServerSecretError';
}

/** The secret the server verifies with: JWT_SECRET, or the dev secret `npm start` kept in DATA_DIR. Never a new one. */
async function serverSecret(auth: AuthConfig, dataDir: string): Promise<string> {
  // The server prefers the key set: with JWKS_URL set it accepts no HS256 token at all.
  if (auth.jwksUrl) throw new NoServerSecretError(`The server verifies RS256 tokens against ${ENV.jwksUrl}; npm run token signs HS256 tokens with ${ENV.jwtSecret} only.`);
  if (auth.jwtSecret) return auth.jwtSecret;
  const secret = await existingDevSecret(dataDir);
  if (secret) return secret;
  throw new NoServerSecretError(
    `No server secret to sign with: ${ENV.jwtSecret} is not set and ${devSecretFile(dataDir)} does not exist.\n` +
      `Start the server first (npm start makes that file), or run npm run token with the server's ${ENV.dataDir} or ${ENV.jwtSecret}.`,
  );
}

/** npm run token -- --tenant <uuid> --scope "events:write events:read admin" */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tenant: { type: 'string' }, scope: { type: 'string' }, subject: { type: 'string' }, expires: { type: 'string' } } });
  const args = ArgsSchema.safeParse(values);
  if (!args.success) {
    throw new ConfigError(args.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`));
  }
  const config = loadLocalConfig();
  const secret = await serverSecret(config.auth, config.dataDir);
  console.log(await mintToken({ secret, tenantId: args.data.tenant, subject: args.data.subject, scopes: args.data.scope, expiresIn: args.data.expires, issuer: config.auth.issuer, audience: config.auth.audience?.[0] }));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof NoServerSecretError ? error.message : error);
  process.exit(1);
});
