import type { SqlDatabase, SqlSession, TransactionOptions } from './sql-database.js';

/** The non-owner role every application statement runs as; row-level security binds it. */
export const APP_ROLE = 'tracker_app';

/**
 * What a tenant's transaction-level advisory locks guard: `event_rollups`, its rollups (the
 * writer holds it shared, a purge's correction alone); `set_members`, the numbering of its
 * event-set members and the sets built from them. One key per tenant and concern.
 */
export type TenantLock = 'event_rollups' | 'set_members';

/** The lock's key, `'<concern> <tenant id>'` hashed to the 64 bits advisory locks take. */
const lockKey = (concern: string, tenant: string) => `hashtextextended(${concern} || ' ' || ${tenant}, 0)`;

/**
 * Switches to the application role and scopes the session to one tenant until the transaction
 * ends. Both settings are transaction-local, so a pooled connection carries neither into the
 * next request. One round trip: `set_config('role', ...)` is `SET LOCAL ROLE`, and a
 * `sharedLock` is taken in the same statement.
 */
export async function scopeToTenant(session: SqlSession, tenantId: string, sharedLock?: TenantLock): Promise<void> {
  const scope = `SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true)`;
  await (sharedLock === undefined
    ? session.query(scope, [APP_ROLE, tenantId])
    : session.query(`${scope}, pg_advisory_xact_lock_shared(${lockKey('$3::text', '$2::text')})`, [APP_ROLE, tenantId, sharedLock]));
}

/** Holds the tenant's `concern` lock alone until the transaction ends. */
export async function lockTenant(session: SqlSession, tenantId: string, concern: TenantLock): Promise<void> {
  await session.query(`SELECT pg_advisory_xact_lock(${lockKey('$1::text', '$2::text')})`, [concern, tenantId]);
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
