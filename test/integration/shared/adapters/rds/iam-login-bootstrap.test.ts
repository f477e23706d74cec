import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../../../../bin/local-runtime/runtime.js';
import { applyMigrations, readMigrations } from '../../../../../lambdas/shared/adapters/pg/migrations.js';
import { PgEventStore } from '../../../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { openDatabase, type SqlDatabase } from '../../../../../lambdas/shared/adapters/pg/sql-database.js';
import { IAM_LOGIN_BOOTSTRAP_SQL, IAM_LOGIN_USER } from '../../../../../lambdas/shared/adapters/rds/iam-login.js';
import { envelope, received, trackedEvent } from '../../../../support/factories.js';
import { onServer } from '../../../../support/test-database.js';

const serverUrl = process.env['DATABASE_URL'];

const asSuperuser = (sql: string): Promise<void> => onServer(serverUrl as string, sql);

const urlFor = (user: string, database: string): string => {
  const url = new URL(serverUrl as string);
  url.username = user;
  url.pathname = `/${database}`;
  return url.toString();
};

/**
 * The bootstrap on a plain server standing in for Aurora: a master that is CREATEROLE and CREATEDB but no
 * superuser (as on RDS), a `rds_iam` role made here (RDS has its own), a schema the master
 * migrated first (a stage that had the proxy). The server is PostgreSQL 15, whose CREATEROLE
 * is looser than 16's: this proves the statement and the ownership it hands over, not Aurora's
 * grant rules.
 */
describe.skipIf(!serverUrl)('the IAM login bootstrap', () => {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  const master = `tracker_master_${suffix}`;
  const database = `tracker_iam_${suffix}`;
  let madeRdsIam = false;
  let madeLogin = false;
  const filler = `tracker_iam_filler_${suffix}`;
  let asLogin: SqlDatabase;

  /**
   * REASSIGN OWNED walks the role's catalog rows in the order they lie in pg_shdepend. The
   * database's row usually comes first, which made the login the owner of `public` before any
   * function reached it, but on a busy server (CI) the migrations' rows fill older free space.
   * Rows the master owned before the database, dropped and vacuumed, make that order certain.
   */
  const leaveRoomBeforeTheDatabaseRow = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: urlFor(master, filler) });
    await client.connect();
    try {
      await client.query(`DO $$ BEGIN FOR i IN 1..400 LOOP EXECUTE format('CREATE FUNCTION filler_%s() RETURNS int LANGUAGE sql AS ''SELECT 1''', i); END LOOP; END $$`);
    } finally {
      await client.end();
    }
    await asSuperuser(`DROP DATABASE ${filler}`);
    await asSuperuser('VACUUM pg_shdepend');
  };

  beforeAll(async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      madeRdsIam = (await client.query(`SELECT FROM pg_roles WHERE rolname = 'rds_iam'`)).rowCount === 0;
      if (madeRdsIam) await client.query('CREATE ROLE rds_iam NOLOGIN');
      // Roles are server-wide: the login is dropped afterwards unless it was there before.
      madeLogin = (await client.query('SELECT FROM pg_roles WHERE rolname = $1', [IAM_LOGIN_USER])).rowCount === 0;
      await client.query(`CREATE ROLE ${master} LOGIN CREATEROLE CREATEDB NOSUPERUSER`);
      await client.query(`CREATE DATABASE ${filler} OWNER ${master}`);
      await client.query(`CREATE DATABASE ${database} OWNER ${master}`);
    } finally {
      await client.end();
    }
    await leaveRoomBeforeTheDatabaseRow();
    const asMaster = await openDatabase({ databaseUrl: urlFor(master, database), poolSize: 1 });
    try {
      await applyMigrations(asMaster, await readMigrations(MIGRATIONS_DIR));
      await asMaster.exec(IAM_LOGIN_BOOTSTRAP_SQL);
      // Again, as every deploy whose bootstrap changed does.
      await asMaster.exec(IAM_LOGIN_BOOTSTRAP_SQL);
    } finally {
      await asMaster.close();
    }
    asLogin = await openDatabase({ databaseUrl: urlFor(IAM_LOGIN_USER, database), poolSize: 2 });
  }, 120_000);

  afterAll(async () => {
    await asLogin?.close();
    await asSuperuser(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await asSuperuser(`DROP DATABASE IF EXISTS ${filler} WITH (FORCE)`);
    await asSuperuser(`DROP ROLE IF EXISTS ${master}`);
    if (madeLogin) await asSuperuser(`DROP ROLE IF EXISTS ${IAM_LOGIN_USER}`);
    if (madeRdsIam) await asSuperuser('DROP ROLE IF EXISTS rds_iam');
  });

  it('hands the schema to the IAM login, which holds rds_iam, and keeps the master a member of it', async () => {
    const owners = await asLogin.query<{ owner: string }>(`SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'public'`);
    expect(owners).toEqual([{ owner: IAM_LOGIN_USER }]);
    const [roles] = await asLogin.query<{ iam: boolean; master: boolean; app: boolean; counters: boolean; search: boolean }>(
      `SELECT pg_has_role($1, 'rds_iam', 'MEMBER') AS iam, pg_has_role($2, $1, 'MEMBER') AS master, pg_has_role($1, 'tracker_app', 'MEMBER') AS app,
              pg_has_role($1, 'tracker_counters', 'MEMBER') AS counters, pg_has_role($1, 'tracker_search', 'USAGE') AS search`,
      [IAM_LOGIN_USER, master],
    );
    // Never the search role: its policy sees every tenant.
    expect(roles).toEqual({ iam: true, master: true, app: true, counters: true, search: false });
  });

  it('lets the login migrate, write as the tenant and manage partitions, as the master did', async () => {
    expect(await applyMigrations(asLogin, await readMigrations(MIGRATIONS_DIR))).toEqual([]);
    const event = trackedEvent();
    expect((await new PgEventStore(asLogin).writeMessages([received(envelope([event]))])).stored).toBe(1);
    // What the maintenance job does as the session user: DDL on the events' partitions.
    await asLogin.exec(`CREATE TABLE analytics_events_2099_01 PARTITION OF analytics_events FOR VALUES FROM ('2099-01-01') TO ('2099-02-01'); ALTER TABLE analytics_events DETACH PARTITION analytics_events_2099_01; DROP TABLE analytics_events_2099_01`);
  });
});
