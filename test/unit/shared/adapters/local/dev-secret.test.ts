import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devSecret, existingDevSecret } from '../../../../../lambdas/shared/adapters/local/dev-secret.js';
import { tempDirPerTest } from '../../../../support/temp-dir.js';

const dataDir = tempDirPerTest('dev-secret-');

describe('existingDevSecret', () => {
  it('answers undefined and writes nothing when no secret was made in DATA_DIR', async () => {
    await expect(existingDevSecret(join(dataDir(), 'missing'))).resolves.toBeUndefined();
    expect(existsSync(join(dataDir(), 'missing'))).toBe(false);
  });

  it('reads the secret devSecret made', async () => {
    const made = await devSecret(dataDir());

    await expect(existingDevSecret(dataDir())).resolves.toBe(made);
  });
});

describe('devSecret', () => {
  it('keeps the secret of the first start for every later one', async () => {
    const first = await devSecret(join(dataDir(), 'new'));

    await expect(devSecret(join(dataDir(), 'new'))).resolves.toBe(first);
  });

  it('replaces an empty secret file, which no token could be verified with', async () => {
    await writeFile(join(dataDir(), 'jwt-secret'), '\n');

    const secret = await devSecret(dataDir());

    expect(secret.length).toBeGreaterThanOrEqual(32);
    await expect(existingDevSecret(dataDir())).resolves.toBe(secret);
  });
});
