import { Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccountRecovery, CfnUserPoolGroup, Mfa, StringAttribute, UserPool, type UserPoolClient, type UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { SCOPES } from '../../lambdas/shared/domain/caller.js';

/**
 * Cognito users of the API. A user's tenant is the immutable `custom:tenant_id` attribute;
 * scopes are the groups the user belongs to (`events:write`, `events:read`, `admin`), which
 * Cognito puts into the ID token as `cognito:groups`.
 */
export class UserDirectory extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  /** The hosted UI, where the dashboard signs users in. */
  readonly domain: UserPoolDomain;

  constructor(scope: Construct, id: string, props: { stage: string }) {
    super(scope, id);
    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      customAttributes: { tenant_id: new StringAttribute({ minLen: 36, maxLen: 36, mutable: false }) },
      passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.client = this.userPool.addClient('ApiClient', {
      // SRP for applications; the admin flow (IAM-authorised) for operators' first tokens.
      authFlows: { userSrp: true, adminUserPassword: true },
      preventUserExistenceErrors: true,
    });
    // A Cognito prefix is global to the region: the account id keeps two accounts' stages apart.
    this.domain = this.userPool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: `event-tracker-${props.stage}-${Aws.ACCOUNT_ID}` } });
    for (const scope of SCOPES) {
      new CfnUserPoolGroup(this, `Group${scope.replace(/[^a-z]/gi, '')}`, { userPoolId: this.userPool.userPoolId, groupName: scope, description: `Grants the ${scope} scope` });
    }
    for (const id of ['AwsSolutions-COG3', 'AwsSolutions-COG8']) {
      Validations.of(this.userPool).acknowledge({ id, reason: 'Threat protection needs the Plus feature plan (cost per user); MFA is required instead.' });
    }
  }

  /** Where the authorizer fetches the pool's signing keys (rotated by Cognito). */
  get jwksUrl(): string {
    return `${this.issuer}/.well-known/jwks.json`;
  }

  /** `https://<prefix>.auth.<region>.amazoncognito.com`. */
  get hostedUiUrl(): string {
    return `https://${this.domain.domainName}.auth.${Stack.of(this).region}.amazoncognito.com`;
  }

  get issuer(): string {
    return `https://cognito-idp.${this.userPool.stack.region}.amazonaws.com/${this.userPool.userPoolId}`;
  }
}
