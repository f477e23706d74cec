import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build, type Format } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { buildStacks } from '../../lib/build-app.js';
import { AppFunction, BUNDLING } from '../../lib/constructs/app-function.js';
import { newTestApp, stageConfig } from './support.js';

const ESBUILD_FORMAT: Record<OutputFormat, Format> = { [OutputFormat.CJS]: 'cjs', [OutputFormat.ESM]: 'esm' };

describe('bundles', () => {
  // The template tests synthesize without bundling. Bundling each function through CDK takes one
  // esbuild process per function (about 20 s idle, over a minute on two loaded cores); one build
  // of every entry point with the same settings proves the same thing in a few seconds.
  it('builds every function of the stack with its bundling settings, each exporting the handler its template names', async () => {
    const app = newTestApp();
    const { service } = buildStacks(app, stageConfig('dev'));
    const functions = app.node.findAll().filter((construct): construct is AppFunction => construct instanceof AppFunction);

    const result = await build({
      entryPoints: Object.fromEntries(functions.map((fn) => [fn.node.id, fn.entry])),
      outdir: mkdtempSync(join(tmpdir(), 'bundles-')),
      write: false,
      metafile: true,
      logLevel: 'silent',
      bundle: true,
      platform: 'node',
      format: ESBUILD_FORMAT[BUNDLING.format],
      target: BUNDLING.target,
      mainFields: BUNDLING.mainFields,
      sourcemap: BUNDLING.sourceMap,
      minify: BUNDLING.minify,
      banner: { js: BUNDLING.banner },
      external: BUNDLING.externalModules,
    });

    expect(functions).toHaveLength(Object.keys(service.functions).length);
    const exportsOf = new Map(Object.entries(result.metafile.outputs).map(([path, output]) => [basename(path, '.js'), output.exports]));
    for (const fn of functions) {
      const handlerExport = (fn.node.defaultChild as CfnFunction).handler?.split('.')[1];
      expect(exportsOf.get(fn.node.id), fn.node.id).toContain(handlerExport);
    }
  }, 10 * 60_000); // one build takes seconds; the bound is there only to stop a hang, never a slow machine
});
