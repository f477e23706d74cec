import { setTimeout as sleep } from 'node:timers/promises';
import { ExecuteStatementCommand, type RDSDataClient } from '@aws-sdk/client-rds-data';
import { log } from '../../logger.js';

/** The database user the functions log in as with IAM tokens, in stages without RDS Proxy. */
export const IAM_LOGIN_USER = 'tracker_service';

/**
 * Run once per deploy as the cluster's master user (the Data API with the cluster secret), in
 * one statement because the Data API runs one. `rds_iam` exists only on RDS and Aurora, which
 * is why this is not a migration: migrations run on PGlite and any Postgres.
 * - The IAM login owns the schema (`REASSIGN OWNED`), so migrations run as it and the
 *   maintenance job may detach and drop partitions. Membership in the master role would be the
 *   other way, and PostgreSQL 16 lets no role grant membership in itself.
 * - It owns the database first: `public` belongs to the database's owner (PostgreSQL 15 on),
 *   a function's new owner needs CREATE there, and REASSIGN OWNED takes the objects in
 *   catalog order, which may put the database last.
 * - The master keeps every right of the login (a member of it): the break-glass way in, with
 *   the cluster secret, through the Data API.
 * - The roles the migrations made while the master ran them (a stage that had the proxy) and
 *   granted it are granted to the login, which sets them per transaction as the master did.
 *   Not `tracker_search`: no login may carry its unrestricted policy (migration 0007).
 * Every step can run again and changes nothing the second time.
 */
export const IAM_LOGIN_BOOTSTRAP_SQL = `DO $bootstrap$
DECLARE
  migration_role text;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${IAM_LOGIN_USER}') THEN
    CREATE ROLE ${IAM_LOGIN_USER} LOGIN CREATEROLE;
  END IF;
  GRANT rds_iam TO ${IAM_LOGIN_USER};
  EXECUTE format('GRANT ${IAM_LOGIN_USER} TO %I', current_user);
  EXECUTE format('ALTER DATABASE %I OWNER TO ${IAM_LOGIN_USER}', current_database());
  EXECUTE format('REASSIGN OWNED BY %I TO ${IAM_LOGIN_USER}', current_user);
  FOR migration_role IN SELECT rolname FROM pg_roles WHERE rolname IN ('tracker_app', 'tracker_maintenance', 'tracker_counters') LOOP
    EXECUTE format('GRANT %I TO ${IAM_LOGIN_USER}', migration_role);
  END LOOP;
END
$bootstrap$`;

export interface DataApiTarget {
  resourceArn: string;
  secretArn: string;
  database: string;
}

/**
 * A paused cluster answers the Data API with DatabaseResumingException and starts resuming:
 * asked again until it is up, within `waitMs`.
 */
export async function createIamLogin(client: RDSDataClient, target: DataApiTarget, { waitMs = 90_000, retryMs = 5_000 } = {}): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      await client.send(new ExecuteStatementCommand({ ...target, sql: IAM_LOGIN_BOOTSTRAP_SQL }));
      log('info', 'IAM database login ready', { user: IAM_LOGIN_USER, waitedMs: Date.now() - started });
      return;
    } catch (error) {
      const resuming = error instanceof Error && error.name === 'DatabaseResumingException';
      if (!resuming || Date.now() - started + retryMs > waitMs) throw error;
      log('info', 'database resuming; asking again', { waitedMs: Date.now() - started });
      await sleep(retryMs);
    }
  }
}
