import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the local runtime keeps the dev secret it made. */
export function devSecretFile(dataDir: string): string {
  return join(dataDir, 'jwt-secret');
}

/**
 * The dev secret a server with this DATA_DIR signs with, or undefined if none was made yet.
 * Never creates one: a tool that mints tokens for a running server must use that server's
 * secret, and a fresh one would only give tokens the server answers with 401.
 */
export async function existingDevSecret(dataDir: string): Promise<string | undefined> {
  try {
    return (await readFile(devSecretFile(dataDir), 'utf8')).trim() || undefined;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Without JWT_SECRET a dev secret is made once and kept in DATA_DIR, so tokens survive restarts. */
export async function devSecret(dataDir: string): Promise<string> {
  const existing = await existingDevSecret(dataDir);
  if (existing) return existing;
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(devSecretFile(dataDir), secret, { mode: 0o600 });
  return secret;
}
