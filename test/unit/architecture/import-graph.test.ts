import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The tree shows the architecture only if its arrows point one way: handlers and composition
// roots import the shared code, never the reverse; the domain imports no I/O.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SHARED = join(ROOT, 'lambdas/shared');

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'([^']+)'/g), ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)];
  return found.map((match) => match[1] ?? '');
}

/** Relative imports of `file`, as paths from the repository root. */
const relativeTargets = (file: string): string[] =>
  specifiers(file)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(ROOT, resolve(dirname(file), specifier)));

describe('the import graph', () => {
  // lambdas/routes.ts, the route table, is data every layer may read; the handlers' folders are not.
  it('has no arrow from lambdas/shared up to a handler or to a composition root in bin/', () => {
    const upward = sourceFiles(SHARED).flatMap((file) =>
      relativeTargets(file)
        .filter((target) => target.startsWith('bin/') || /^lambdas\/(?!shared\/)[^/]+\//.test(target))
        .map((target) => `${relative(ROOT, file)} -> ${target}`),
    );

    expect(upward).toEqual([]);
  });

  it('keeps the domain free of pg, the AWS SDK, middy and the Lambda types', () => {
    const io = sourceFiles(join(SHARED, 'domain')).flatMap((file) =>
      specifiers(file)
        .filter((specifier) => /^(pg|pg-copy-streams|@aws-sdk\/|@middy\/|aws-lambda|@electric-sql\/)/.test(specifier))
        .map((specifier) => `${relative(ROOT, file)} -> ${specifier}`),
    );

    expect(io).toEqual([]);
  });

  it('finds the imports it checks (a scanner that reads nothing would pass anything)', () => {
    expect(relativeTargets(join(SHARED, 'wiring/aws.ts'))).toContain('lambdas/shared/adapters/pg/pg-event-store.js');
  });
});
