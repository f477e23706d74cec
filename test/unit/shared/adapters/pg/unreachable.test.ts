import { describe, expect, it } from 'vitest';
import { isUnreachable } from '../../../../../lambdas/shared/adapters/pg/sql-database.js';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('isUnreachable', () => {
  it('reads a refused, reset or timed-out connection and a server starting up as unavailable', () => {
    for (const error of [
      withCode('connect ECONNREFUSED 10.0.3.7:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('the database system is starting up', '57P03'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated due to connection timeout'),
      new Error('Connection terminated unexpectedly'),
      // Node's happy-eyeballs connect tries every address and reports them together.
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')]),
    ]) {
      expect(isUnreachable(error), error.message).toBe(true);
    }
  });

  it('does not excuse what a retry would not fix: a refused login, a bad statement, a constraint', () => {
    for (const error of [
      withCode('PAM authentication failed for user "tracker_service"', '28000'),
      withCode('password authentication failed', '28P01'),
      withCode('syntax error at or near "SELEC"', '42601'),
      withCode('duplicate key value violates unique constraint', '23505'),
      'ECONNREFUSED',
    ]) {
      expect(isUnreachable(error)).toBe(false);
    }
  });
});
