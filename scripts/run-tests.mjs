// Runs vitest and ends with the plain line CI reads: "N passed, M failed".
// The counts come from vitest's JSON report, so a run that executed no test cannot look green.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const report = '.vitest/results.json';
rmSync(report, { force: true });
const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
const results = existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : undefined;
const passed = results?.numPassedTests ?? 0;
const failed = (results?.numFailedTests ?? 0) + (results ? 0 : 1);
const skipped = (results?.numPendingTests ?? 0) + (results?.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
