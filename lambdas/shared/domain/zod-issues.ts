import type { z } from 'zod';
import type { FieldIssue } from './errors.js';

/** zod issues as `{path, message}` with dotted paths (`context.ipAddress`, `events.3.type`). */
export function zodIssues(error: z.ZodError, prefix: Array<string | number> = []): FieldIssue[] {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => ({
      path: [...prefix, ...issue.path, ...(key === undefined ? [] : [key])].map(String).join('.'),
      message: key === undefined ? issue.message : 'is not a known field',
    }));
  }).flat();
}
