// Runs vitest and ends with the plain line CI reads: "N passed, M failed".
// The counts come from vitest's JSON report, so a run that executed no test cannot look green.
// A test file that fails to load or whose hook fails, and an unhandled error, fail the run
// without failing a test: each counts as a failure here, and is repeated just above the
// summary because CI keeps only the last lines of the output.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { exitCode, summarize, summaryLine } from './test-summary.mjs';
import { UNHANDLED_ERRORS_FILE } from './unhandled-errors-reporter.mjs';

const report = '.vitest/results.json';
rmSync(report, { force: true });
rmSync(UNHANDLED_ERRORS_FILE, { force: true });
const run = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', '--reporter=./scripts/unhandled-errors-reporter.mjs', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
const results = existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : undefined;
const unhandled = existsSync(UNHANDLED_ERRORS_FILE) ? JSON.parse(readFileSync(UNHANDLED_ERRORS_FILE, 'utf8')) : [];
for (const error of unhandled) {
  console.log(`\nUnhandled ${error.name ?? 'error'}${error.code ? ` (${error.code})` : ''}: ${error.message}${error.cause ? `\n  cause: ${error.cause}` : ''}`);
  if (error.testFile) console.log(`  while running ${error.testFile}`);
  console.log((error.stack ?? '').split('\n').slice(1, 12).join('\n'));
}
const summary = summarize(results, unhandled);
for (const suite of summary.failedSuites) {
  console.log(`\nFailed suite ${relative(process.cwd(), suite.file)}: ${suite.message || 'a hook of one of its describe blocks failed (see above)'}`);
}
if (!results) console.log('\nNo test report: vitest did not run the tests.');
console.log(summaryLine(summary));
process.exit(exitCode(summary, run.status));
