import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { FlowLogDestination, GatewayVpcEndpointAwsService, Port, FlowLogTrafficType, InterfaceVpcEndpointAwsService, SecurityGroup, SubnetType, Vpc, type ISecurityGroup, type IVpc, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { AuroraPostgresEngineVersion, ClusterInstance, Credentials, DatabaseCluster, DatabaseClusterEngine, type DatabaseProxy } from 'aws-cdk-lib/aws-rds';
import { IAM_LOGIN_USER } from '../../lambdas/shared/adapters/rds/iam-login.js';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { availabilityZones, type StageConfig } from '../stage-config.js';

/** What a function needs to reach the database. */
export interface DatabaseResources {
  vpc: IVpc;
  subnets: SubnetSelection;
  functionSecurityGroup: ISecurityGroup;
  cluster: DatabaseCluster;
  /** Functions connect through it with the cluster secret; without it, to the cluster with IAM tokens as `iamUser`. */
  proxy: DatabaseProxy | undefined;
  iamUser: string;
  secret: ISecret;
  databaseName: string;
  port: number;
}

/**
 * Aurora Serverless v2 PostgreSQL in isolated subnets of its own VPC, behind RDS Proxy in the
 * stages that have one (`database.proxy`). No NAT gateway: SQS is polled by the Lambda service,
 * not by the function. With the proxy, functions read the secret through a Secrets Manager
 * interface endpoint; without it they sign IAM tokens locally and need no endpoint at all.
 */
export class Database extends Construct implements DatabaseResources {
  readonly vpc: Vpc;
  readonly subnets: SubnetSelection = { subnetType: SubnetType.PRIVATE_ISOLATED };
  readonly functionSecurityGroup: SecurityGroup;
  readonly cluster: DatabaseCluster;
  readonly proxy: DatabaseProxy | undefined;
  readonly iamUser = IAM_LOGIN_USER;
  readonly secret: ISecret;
  readonly databaseName = 'tracker';
  readonly port = 5432;

  constructor(scope: Construct, id: string, config: StageConfig) {
    super(scope, id);
    this.vpc = new Vpc(this, 'Vpc', {
      availabilityZones: availabilityZones(config),
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      flowLogs: { Rejected: { destination: FlowLogDestination.toCloudWatchLogs(), trafficType: FlowLogTrafficType.REJECT } },
    });
    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'Functions that reach the database',
    });
    // The functions in the VPC take from the tenants' rate-limit buckets; a gateway endpoint is free.
    this.vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: GatewayVpcEndpointAwsService.DYNAMODB, subnets: [this.subnets] });
    const { database } = config;
    // Billed by the hour in each zone ($16 a month for two): only where something reads the secret from the VPC.
    if (database.proxy) {
      this.vpc.addInterfaceEndpoint('SecretsManagerEndpoint', {
        service: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: this.subnets,
        securityGroups: [this.functionSecurityGroup],
        // Only the functions' security group, not the whole VPC range.
        open: false,
      }).connections.allowDefaultPortFrom(this.functionSecurityGroup);
    }

    this.cluster = new DatabaseCluster(this, 'Cluster', {
      engine: DatabaseClusterEngine.auroraPostgres({ version: AuroraPostgresEngineVersion.of(database.engineVersion, database.engineVersion.split('.')[0] as string) }),
      credentials: Credentials.fromGeneratedSecret('tracker_admin'),
      defaultDatabaseName: this.databaseName,
      writer: ClusterInstance.serverlessV2('Writer'),
      serverlessV2MinCapacity: database.minCapacityAcu,
      serverlessV2MaxCapacity: database.maxCapacityAcu,
      serverlessV2AutoPauseDuration: database.autoPauseSeconds === undefined ? undefined : Duration.seconds(database.autoPauseSeconds),
      // Without the proxy: the functions' IAM login, and the Data API that creates it.
      iamAuthentication: database.proxy ? undefined : true,
      enableDataApi: database.proxy ? undefined : true,
      vpc: this.vpc,
      vpcSubnets: this.subnets,
      storageEncrypted: true,
      backup: { retention: Duration.days(config.database.backupRetentionDays) },
      deletionProtection: config.database.deletionProtection,
      cloudwatchLogsExports: ['postgresql'],
      removalPolicy: config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.SNAPSHOT,
    });
    if (!this.cluster.secret) throw new Error('The cluster has no generated secret.');
    this.secret = this.cluster.secret;
    if (database.proxy) {
      this.proxy = this.cluster.addProxy('Proxy', {
        secrets: [this.secret],
        vpc: this.vpc,
        vpcSubnets: this.subnets,
        requireTLS: true,
      });
      this.cluster.connections.allowFrom(this.proxy, Port.tcp(this.port), 'RDS Proxy to Aurora');
      // The rotation function shares the functions' group: it reaches Secrets Manager the same way.
      this.cluster.addRotationSingleUser({ automaticallyAfter: Duration.days(30), securityGroup: this.functionSecurityGroup, vpcSubnets: this.subnets });
      Validations.of(this.cluster).acknowledge({ id: 'AwsSolutions-RDS6', reason: 'Functions authenticate to RDS Proxy with the rotated Secrets Manager secret; IAM auth would add a token signing call per connection.' });
    } else {
      this.proxy = undefined;
      this.cluster.connections.allowFrom(this.functionSecurityGroup, Port.tcp(this.port), 'Functions to Aurora (IAM tokens, TLS)');
      // Rotation runs in the VPC and needs the Secrets Manager endpoint this stage does without.
      // The cluster's `secret` is the attachment; the secret itself is the construct `Secret`.
      Validations.of(this.cluster.node.findChild('Secret')).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: `No function uses the master secret in ${config.stage} (IAM tokens instead); only the Data API's bootstrap of the IAM login and an operator do. Rotating it would need a $16-a-month endpoint for a rotation Lambda (docs/operations.md).`,
      });
    }
    if (!config.database.deletionProtection) {
      Validations.of(this.cluster).acknowledge({ id: 'AwsSolutions-RDS10', reason: `Deletion protection is off in ${config.stage} by its stage config (prod requires it).` });
    }
  }
}
