// Vitest reporter: writes the run's unhandled errors (which fail the run without failing a test)
// to a file, so that the summary can count them and show them in the last lines CI keeps.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const UNHANDLED_ERRORS_FILE = '.vitest/unhandled-errors.json';

export default class UnhandledErrorsReporter {
  onTestRunEnd(_modules, unhandledErrors) {
    const errors = unhandledErrors.map((error) => ({
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: error.code,
      cause: error.cause?.message,
      testFile: error.VITEST_TEST_PATH,
    }));
    mkdirSync(dirname(UNHANDLED_ERRORS_FILE), { recursive: true });
    writeFileSync(UNHANDLED_ERRORS_FILE, JSON.stringify(errors, null, 2));
  }
}
