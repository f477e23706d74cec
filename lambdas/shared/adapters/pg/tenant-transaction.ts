import type { SqlDatabase, SqlSession, TransactionOptions } from './sql-database.js';

/** The non-owner role every application statement runs as; row-level security binds it. */
export const APP_ROLE = 'tracker_app';

/**
 * Switches to the application role and scopes the session to one tenant until the transaction
 * ends. Both settings are transaction-local, so a pooled connection carries neither into the
 * next request. One round trip: `set_config('role', ...)` is `SET LOCAL ROLE`.
 */
export async function scopeToTenant(session: SqlSession, tenantId: string): Promise<void> {
  await session.query(`SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true)`, [APP_ROLE, tenantId]);
}

/**
 * Runs `work` in a transaction as the application role, scoped to `tenantId`. `oneSnapshot`:
 * every statement sees the same committed data (repeatable read), for reads whose statements
 * must agree with each other.
 */
export function inTenantTransaction<T>(db: SqlDatabase, tenantId: string, work: (session: SqlSession) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  return db.transaction(async (session) => {
    await scopeToTenant(session, tenantId);
    return work(session);
  }, options);
}
