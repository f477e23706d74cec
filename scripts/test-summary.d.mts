/** The parts of vitest's JSON report (`--reporter=json`) that the summary reads. */
export interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{
    name: string;
    status: 'passed' | 'failed';
    /** The file's own error (a failed hook or import); empty when it lies on a describe block. */
    message: string;
    assertionResults: Array<{ status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' }>;
  }>;
}

export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  failedSuites: Array<{ file: string; message: string }>;
}

export function summarize(report: JsonReport | undefined, unhandledErrors: readonly unknown[]): TestSummary;
export function summaryLine(summary: Pick<TestSummary, 'passed' | 'failed' | 'skipped'>): string;
export function exitCode(summary: Pick<TestSummary, 'passed' | 'failed'>, vitestStatus: number | null): 0 | 1;
