import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IRestApi } from 'aws-cdk-lib/aws-apigateway';
import type { IWebSocketApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { OAuthScope, UserPoolClient, UserPoolClientIdentityProvider, type IUserPool } from 'aws-cdk-lib/aws-cognito';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CALLBACK_PATH, hostedUiAuth, LOGOUT_PATH } from '../dashboard-config.js';

/** Where `npm run build:web` writes the dashboard's files. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface DashboardHostingProps {
  /** The REST API, served under `/v1/*` of the same origin: no CORS. */
  restApi: IRestApi;
  /** The API stage: CloudFront's origin path. */
  stageName: string;
  /** The live stream, which the page connects to (`connect-src`). */
  webSocketApi: IWebSocketApi;
  webSocketStageName: string;
  userPool: IUserPool;
  /** `https://<prefix>.auth.<region>.amazoncognito.com`: the hosted UI and its token endpoint. */
  hostedUiDomain: string;
  /** The built web app; synth without it deploys only config.json (default `web/dist`). */
  webDist?: string;
}

/** The dashboard's `config.json` (contract of issue 16, item 4): the API on the same origin, the live stream, the hosted UI's code flow with PKCE. */
export function dashboardConfig(stage: { streamOrigin: string; streamStage: string; hostedUiDomain: string; clientId: string; url: string }) {
  return {
    apiBase: '',
    streamUrl: `${stage.streamOrigin}/${stage.streamStage}`,
    auth: hostedUiAuth(stage.hostedUiDomain, stage.clientId, stage.url),
  };
}

/**
 * The dashboard: a private bucket read by CloudFront alone (origin access control), the API
 * behind the same distribution under `/v1/*`, never cached, and a response headers policy
 * whose Content-Security-Policy allows no inline script or style. `config.json` is written
 * at deploy time with the stage's stream URL and its Cognito app client (code flow with PKCE,
 * no secret: a browser cannot keep one).
 */
export class DashboardHosting extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly client: UserPoolClient;
  /** `https://<distribution domain>`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: DashboardHostingProps) {
    super(scope, id);
    const webDist = props.webDist ?? WEB_DIST;
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Kept when the stack goes, like every bucket here: emptying it on delete would take one more provider function.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const { region, urlSuffix } = Stack.of(this);
    // Built from the API's id and the stage name, not the stage resource: the stage depends on
    // the authorizer, whose accepted audiences include this distribution's app client.
    const streamOrigin = `wss://${props.webSocketApi.apiId}.execute-api.${region}.${urlSuffix}`;
    const headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Dashboard: CSP without unsafe-inline, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            // The API is 'self'; the live stream and the hosted UI's token endpoint are not.
            `connect-src 'self' ${streamOrigin} ${props.hostedUiDomain}`,
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
          ].join('; '),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });

    const api = new HttpOrigin(`${props.restApi.restApiId}.execute-api.${region}.${urlSuffix}`, {
      originPath: `/${props.stageName}`,
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      // The export streams for minutes; 60 s is the most CloudFront waits between two chunks without a quota increase.
      readTimeout: Duration.seconds(60),
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Event tracker dashboard and API',
      defaultRootObject: 'index.html',
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        compress: true,
      },
      additionalBehaviors: {
        '/v1/*': {
          origin: api,
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          // Answers are per caller: nothing cached; with caching off, this policy forwards Authorization.
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          compress: false,
        },
      },
      // The app routes in the hash; /callback is a path, served by the same page.
      errorResponses: [{ httpStatus: 403, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) }],
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    this.client = new UserPoolClient(this, 'AppClient', {
      userPool: props.userPool,
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [`${this.url}${CALLBACK_PATH}`],
        logoutUrls: [`${this.url}${LOGOUT_PATH}`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
    });

    const config = dashboardConfig({
      streamOrigin,
      streamStage: props.webSocketStageName,
      hostedUiDomain: props.hostedUiDomain,
      clientId: this.client.userPoolClientId,
      url: this.url,
    });
    const built = existsSync(join(webDist, 'index.html'));
    const deployment = new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      // Without a build (`npm run build:web`) only config.json goes up: synth and the tests need no web build.
      sources: [...(built ? [Source.asset(webDist)] : []), Source.jsonData('config.json', config)],
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      memoryLimit: 256,
    });

    // CDK's own provider: its managed logging policy, and wildcards on the web bucket's objects and the asset bucket it copies from.
    Validations.of(deployment.handlerRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's BucketDeployment provider writes its logs only.",
    });
    const { account } = Stack.of(this);
    for (const evidence of [
      'Action::s3:Abort*',
      'Action::s3:DeleteObject*',
      'Action::s3:GetBucket*',
      'Action::s3:GetObject*',
      'Action::s3:List*',
      // cloudfront:CreateInvalidation takes no resource narrower than *.
      'Resource::*',
      `Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*`,
      `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${account}-${region}/*`,
    ]) {
      Validations.of(deployment.handlerRole).acknowledge({
        id: `AwsSolutions-IAM5[${evidence}]`,
        reason: "CDK's BucketDeployment provider: it reads CDK's asset objects, replaces the web bucket's objects (whose names change with every build) and invalidates the distribution.",
      });
    }
    for (const [rule, reason] of [
      ['AwsSolutions-S1', 'The bucket holds only the built web app, rewritten by every deploy; CloudFront reads it through OAC.'],
      ['AwsSolutions-CFR1', 'The dashboard is for the tenants wherever they are; access is by Cognito sign-in.'],
      ['AwsSolutions-CFR2', 'WAF is an operator choice per account (cost), as for the API (docs/operations.md).'],
      ['AwsSolutions-CFR3', 'Access logs cost per request and the API behind it logs every request already.'],
      ['AwsSolutions-CFR4', 'The default CloudFront certificate allows only the policy CloudFront sets; a custom domain with its own policy is an operator choice.'],
    ] as const) {
      Validations.of(this).acknowledge({ id: rule, reason });
    }
  }
}
