import { DatabaseResumingException, ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createIamLogin, IAM_LOGIN_BOOTSTRAP_SQL, IAM_LOGIN_USER } from '../../../../../lambdas/shared/adapters/rds/iam-login.js';

const rdsData = mockClient(RDSDataClient);
const target = { resourceArn: 'arn:aws:rds:eu-west-1:111111111111:cluster:tracker', secretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:master', database: 'tracker' };
const resuming = () => new DatabaseResumingException({ message: 'The database is resuming', $metadata: {} });

beforeEach(() => {
  rdsData.reset();
});

describe('createIamLogin', () => {
  it('runs the bootstrap as one statement on the cluster with the master secret', async () => {
    rdsData.on(ExecuteStatementCommand).resolves({});
    await createIamLogin(new RDSDataClient({}), target);
    expect(rdsData.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input)).toEqual([{ ...target, sql: IAM_LOGIN_BOOTSTRAP_SQL }]);
  });

  it('asks again while a paused cluster resumes', async () => {
    rdsData.on(ExecuteStatementCommand).rejectsOnce(resuming()).rejectsOnce(resuming()).resolves({});
    await createIamLogin(new RDSDataClient({}), target, { retryMs: 1 });
    expect(rdsData.commandCalls(ExecuteStatementCommand)).toHaveLength(3);
  });

  it('gives up after the wait, and at once on anything but a resume', async () => {
    rdsData.on(ExecuteStatementCommand).rejects(resuming());
    await expect(createIamLogin(new RDSDataClient({}), target, { waitMs: 30, retryMs: 10 })).rejects.toThrow('resuming');
    rdsData.reset();
    rdsData.on(ExecuteStatementCommand).rejects(new Error('permission denied to grant role "rds_iam"'));
    await expect(createIamLogin(new RDSDataClient({}), target, { retryMs: 1 })).rejects.toThrow('rds_iam');
    expect(rdsData.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  });

  it('makes the login an IAM user that owns the schema, can be re-run, and stays reachable by the master', () => {
    expect(IAM_LOGIN_BOOTSTRAP_SQL).toContain(`GRANT rds_iam TO ${IAM_LOGIN_USER}`);
    expect(IAM_LOGIN_BOOTSTRAP_SQL).toContain(`IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${IAM_LOGIN_USER}')`);
    expect(IAM_LOGIN_BOOTSTRAP_SQL).toContain(`REASSIGN OWNED BY %I TO ${IAM_LOGIN_USER}`);
    // Before the objects, so the login may own functions in `public`, which the database's owner owns.
    expect(IAM_LOGIN_BOOTSTRAP_SQL).toMatch(/ALTER DATABASE %I OWNER TO \w+', current_database\(\)\);[\s\S]*REASSIGN OWNED/);
  });
});
