import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { exitCode, summarize, summaryLine, type JsonReport } from '../../../scripts/test-summary.mjs';

type TestStatus = JsonReport['testResults'][number]['assertionResults'][number]['status'];

/** One test file as vitest's JSON reporter writes it: failed if a test failed or the file has an error. */
function file(name: string, tests: TestStatus[], fileError = false, message = ''): JsonReport['testResults'][number] {
  const failed = fileError || tests.includes('failed');
  return { name: `/repo/test/${name}`, status: failed ? 'failed' : 'passed', message, assertionResults: tests.map((status) => ({ status })) };
}

/** A report with the totals vitest derives from its files. */
function report(...files: JsonReport['testResults']): JsonReport {
  const tests = files.flatMap((entry) => entry.assertionResults.map((test) => test.status));
  const count = (status: TestStatus) => tests.filter((test) => test === status).length;
  return { numPassedTests: count('passed'), numFailedTests: count('failed'), numPendingTests: count('skipped') + count('pending'), numTodoTests: count('todo'), testResults: files };
}

const passing = (count: number): TestStatus[] => Array.from({ length: count }, () => 'passed');
const skipped = (count: number): TestStatus[] => Array.from({ length: count }, () => 'skipped');

describe('test summary', () => {
  it('counts a file whose beforeAll timed out as a failure, with its tests skipped (the CI run of issue 11)', () => {
    const run = report(file('unit/a.test.ts', passing(249)), file('infra/stacks.test.ts', skipped(25), true, 'Hook timed out in 60000ms'));

    const summary = summarize(run, []);

    expect(summaryLine(summary)).toBe('249 passed, 1 failed, 25 skipped');
    expect(summary.failedSuites).toEqual([{ file: '/repo/test/infra/stacks.test.ts', message: 'Hook timed out in 60000ms' }]);
  });

  it('counts a file that failed to load, and so has no tests at all', () => {
    const run = report(file('unit/a.test.ts', passing(3)), file('unit/broken.test.ts', [], true, "Cannot find module './gone.js'"));

    expect(summarize(run, []).failed).toBe(1);
  });

  it('counts a file whose describe-level hook failed although its other tests passed', () => {
    const run = report(file('unit/a.test.ts', ['skipped', 'passed'], true));

    expect(summarize(run, []).failedSuites).toEqual([{ file: '/repo/test/unit/a.test.ts', message: '' }]);
  });

  it('counts a file with failed tests once per failed test, not again as a failed suite', () => {
    const run = report(file('unit/a.test.ts', ['failed', 'failed', 'skipped', 'passed'], true));

    expect(summarize(run, [])).toMatchObject({ passed: 1, failed: 2, failedSuites: [] });
  });

  it('adds unhandled errors to the failures', () => {
    const run = report(file('unit/a.test.ts', ['failed', 'passed']));

    expect(summarize(run, [{ message: 'socket hang up' }, { message: 'EPIPE' }]).failed).toBe(3);
  });

  it('counts a run that wrote no report as failed, never as passed', () => {
    const summary = summarize(undefined, []);

    expect(summaryLine(summary)).toBe('0 passed, 1 failed');
    expect(exitCode(summary, 0)).toBe(1);
  });

  it('exits 0 only when vitest passed, nothing failed and something ran', () => {
    expect(exitCode({ passed: 5, failed: 0 }, 0)).toBe(0);
    expect(exitCode({ passed: 5, failed: 1 }, 0)).toBe(1);
    expect(exitCode({ passed: 5, failed: 0 }, 1)).toBe(1);
    expect(exitCode({ passed: 0, failed: 0 }, 0)).toBe(1);
  });

  it('counts every failure in the report vitest itself writes: a failed hook, a failed import, a failed test', async () => {
    const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));
    const vitest = fileURLToPath(new URL('../../../node_modules/vitest/vitest.mjs', import.meta.url));
    const output = join(mkdtempSync(join(tmpdir(), 'vitest-report-')), 'results.json');

    // The run fails on purpose, so its exit status is not the point: its report is.
    await promisify(execFile)(process.execPath, [vitest, 'run', '--root', fixtures, '--reporter=json', `--outputFile.json=${output}`]).catch(() => undefined);
    const summary = summarize(JSON.parse(readFileSync(output, 'utf8')) as JsonReport, []);

    expect(summaryLine(summary)).toBe('2 passed, 3 failed, 3 skipped');
    expect(summary.failedSuites.map((suite) => suite.file.split('/').pop()).sort()).toEqual(['hook-fails.fixture.ts', 'import-fails.fixture.ts']);
  }, 5 * 60_000); // a whole vitest start-up: seconds when idle, more on two loaded cores; the bound only stops a hang
});
