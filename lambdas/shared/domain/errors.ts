/** A field-level complaint, named by its path in the request body. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** The request is well-formed JSON but breaks the contract. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly issues: FieldIssue[],
    message = 'The request has invalid fields.',
  ) {
    super(message);
  }
}

/** The body is not JSON at all. */
export class MalformedBodyError extends Error {
  override readonly name = 'MalformedBodyError';
}

/** The body, or an event in it, is over its limit; `issues` names which (path '' is the body). */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [{ path: '', message }],
  ) {
    super(message);
  }
}

/** A body of `bytes` over a limit of `limit` bytes. */
export const bodyTooLarge = (bytes: number, limit: number): PayloadTooLargeError =>
  new PayloadTooLargeError(`The body is ${bytes} bytes; the limit is ${limit}.`);

export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
  /**
   * The `WWW-Authenticate` challenge (RFC 9110): bearer tokens on our routes, HTTP Basic on
   * Segment's, whose SDKs send the write key as the Basic user name.
   */
  constructor(
    message: string,
    readonly challenge = 'Bearer',
  ) {
    super(message);
  }
}

export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The queue refused the events after retries; the client should retry later. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** The write keys' table did not answer, so a key could not be checked; the client should retry. */
export class WriteKeysUnavailableError extends Error {
  override readonly name = 'WriteKeysUnavailableError';
}

/** The live counters' table did not answer; the client should retry later. */
export class CountersUnavailableError extends Error {
  override readonly name = 'CountersUnavailableError';
}

/** The tenant used up its rate; nothing of the request was applied. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The database could not be reached within the wait allowed (paused and resuming, failing
 * over, restarting): nothing was read or written, and the same call later will work.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}
