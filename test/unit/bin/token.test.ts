import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../../lambdas/shared/adapters/jwt/jose-token-verifier.js';
import { devSecret } from '../../../lambdas/shared/adapters/local/dev-secret.js';
import { TENANT_A } from '../../support/factories.js';
import { tempDirPerTest } from '../../support/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run token` as a user runs it, with only the settings given (none inherited from the test's environment). */
function runToken(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bin/token.ts', '--tenant', TENANT_A, '--scope', 'events:read'],
      { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env } },
      (error, stdout, stderr) => resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
    );
  });
}

const dataDir = tempDirPerTest('token-');

describe('npm run token', () => {
  it('refuses with a message, no stack and no new secret when the server has made no secret in DATA_DIR', async () => {
    const run = await runToken({ DATA_DIR: dataDir() });

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${join(dataDir(), 'jwt-secret')} does not exist`);
    expect(run.stderr).toContain("Start the server first (npm start makes that file), or run npm run token with the server's DATA_DIR or JWT_SECRET.");
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(dataDir(), 'jwt-secret'))).toBe(false);
  });

  it('signs with the dev secret the server kept in DATA_DIR', async () => {
    const secret = await devSecret(dataDir());

    const run = await runToken({ DATA_DIR: dataDir() });

    expect(run.code).toBe(0);
    const claims = await createTokenVerifier({ jwtSecret: secret })(run.stdout.trim());
    expect(claims).toMatchObject({ tenant_id: TENANT_A, scope: 'events:read' });
  });

  it('signs with JWT_SECRET when it is set, whatever DATA_DIR holds', async () => {
    const secret = 'a-server-secret-of-at-least-32-characters';

    const run = await runToken({ DATA_DIR: dataDir(), JWT_SECRET: secret });

    expect(run.code).toBe(0);
    await expect(createTokenVerifier({ jwtSecret: secret })(run.stdout.trim())).resolves.toMatchObject({ tenant_id: TENANT_A });
  });

  it('refuses when the server verifies against JWKS_URL, which accepts no HS256 token', async () => {
    const run = await runToken({ DATA_DIR: dataDir(), JWKS_URL: 'https://issuer.example/.well-known/jwks.json', JWT_SECRET: 'a-server-secret-of-at-least-32-characters' });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('npm run token signs HS256 tokens with JWT_SECRET only');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
