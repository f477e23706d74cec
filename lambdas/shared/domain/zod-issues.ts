import type { z } from 'zod';
import { ValidationError, type FieldIssue } from './errors.js';

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

/** Parses request input, or throws the 400 that names every bad field. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ValidationError(zodIssues(parsed.error));
  return parsed.data;
}
