import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { createIamLogin } from '../shared/adapters/rds/iam-login.js';
import { DataApi, loadConfig } from '../shared/config.js';

/**
 * Run by a CDK trigger before the migrations, in stages without RDS Proxy: creates the IAM
 * login the functions and the migrations use. Outside the VPC: the Data API is reached over
 * AWS's public endpoint and reads the cluster secret itself, so the VPC needs no endpoint.
 */
export const handler = async (): Promise<void> => {
  await createIamLogin(new RDSDataClient({}), loadConfig({ target: DataApi }).target);
};
