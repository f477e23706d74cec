const THROTTLED = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded']);

/** DynamoDB refused for throughput: the table is there and answers, only not now. */
export const isThrottled = (error: unknown): boolean => error instanceof Error && THROTTLED.has(error.name);

/** The SDK blames the request (a missing table or permission, a bad expression; throttling too). */
export const isClientFault = (error: unknown): boolean => typeof error === 'object' && error !== null && '$fault' in error && error.$fault === 'client';
