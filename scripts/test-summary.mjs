// The counts behind the line CI reads, "N passed, M failed", from vitest's JSON report and the
// unhandled errors the run collected. Kept apart from the run so that a test can feed it reports.

/**
 * A test file that failed without a failed test of its own: it did not load, or a hook failed
 * (its tests are then reported skipped). Counted per file, not from `numFailedTestSuites`, which
 * also counts every describe block around a failed test, and so would count one failure twice.
 */
function failedFilesWithoutFailedTests(report) {
  return report.testResults
    .filter((file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'))
    .map((file) => ({ file: file.name, message: file.message }));
}

export function summarize(report, unhandledErrors) {
  // No report means vitest did not get as far as running: that is a failure, never a pass.
  if (report === undefined) return { passed: 0, failed: 1 + unhandledErrors.length, skipped: 0, failedSuites: [] };
  const failedSuites = failedFilesWithoutFailedTests(report);
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + failedSuites.length + unhandledErrors.length,
    skipped: report.numPendingTests + report.numTodoTests,
    failedSuites,
  };
}

export function summaryLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
}

/** A run passes only when vitest itself passed, nothing failed and something ran. */
export function exitCode({ passed, failed }, vitestStatus) {
  return vitestStatus !== 0 || failed > 0 || passed === 0 ? 1 : 0;
}
