import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dashboardConfig } from '../../lib/constructs/dashboard-hosting.js';
import { functionId, stageConfig, statementsOf, synthesize } from './support.js';

const dev = stageConfig('dev');
let stateful: Template;
let service: Template;

beforeAll(() => {
  ({ stateful, service } = synthesize(dev));
}, 10 * 60_000);

type Resource = { Properties: Record<string, any> };
const only = (template: Template, type: string): Resource => {
  const resources = Object.values(template.findResources(type));
  expect(resources, type).toHaveLength(1);
  return resources[0] as Resource;
};
const distribution = () => only(service, 'AWS::CloudFront::Distribution').Properties['DistributionConfig'];
const csp = (): string => only(service, 'AWS::CloudFront::ResponseHeadersPolicy').Properties['ResponseHeadersPolicyConfig'].SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy;
const cspText = () => JSON.stringify(csp());

describe('dashboard hosting', () => {
  it('keeps the web app in a private, encrypted, TLS-only bucket that only the distribution reads, through OAC', () => {
    const bucketId = Object.keys(service.findResources('AWS::S3::Bucket'))[0] as string;
    service.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    service.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' } });
    const policy = JSON.stringify(only(service, 'AWS::S3::BucketPolicy').Properties['PolicyDocument']);
    expect(policy).toContain('cloudfront.amazonaws.com');
    expect(policy).toContain('aws:SecureTransport');
    expect(policy).toContain(bucketId);
    expect(distribution().Origins.find((origin: { S3OriginConfig?: unknown }) => origin.S3OriginConfig)).toMatchObject({ OriginAccessControlId: expect.anything() });
  });

  it('serves the bucket by default over HTTPS and the REST API under /v1/* of the same origin, uncached, every method', () => {
    const config = distribution();
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', ResponseHeadersPolicyId: expect.anything() });
    const api = config.CacheBehaviors.find((behaviour: { PathPattern: string }) => behaviour.PathPattern === '/v1/*');
    expect(api).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      // The managed CachingDisabled and AllViewerExceptHostHeader policies.
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    const origin = config.Origins.find((candidate: { Id: string }) => candidate.Id === api.TargetOriginId);
    expect(origin).toMatchObject({ OriginPath: `/${dev.stage}`, CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginReadTimeout: 60 } });
    expect(JSON.stringify(origin.DomainName)).toContain('RestApi');
  });

  it('sends a Content-Security-Policy without unsafe-inline that connects only to itself, the live stream and the hosted UI', () => {
    const text = cspText();
    expect(text).not.toContain('unsafe-inline');
    expect(text).not.toContain('unsafe-eval');
    expect(text).toContain("script-src 'self'");
    expect(text).toContain("style-src 'self'");
    expect(text).toContain("frame-ancestors 'none'");
    expect(text).toMatch(/connect-src 'self' wss:\/\/",\{"Ref":"LiveStreamApi[0-9A-F]+"\}/);
    expect(text).toContain('.amazoncognito.com');
  });

  it('writes config.json at deploy: same-origin API, the stage of the live stream, Cognito code flow to /callback', () => {
    const deployment = only(service, 'Custom::CDKBucketDeployment').Properties;
    // Source.jsonData resolves the file's tokens at deploy time from these markers.
    const markers = JSON.stringify(deployment['SourceMarkers']);
    for (const token of [/LiveStreamApi[0-9A-F]+/, /UserPoolHostedUi/, /DashboardAppClient[0-9A-F]+/, /DashboardDistribution[0-9A-F]+","DomainName/]) expect(markers).toMatch(token);
    expect(deployment['DistributionPaths']).toEqual(['/index.html', '/config.json']);
    expect(
      dashboardConfig({ streamOrigin: 'wss://abc.execute-api.eu-west-1.amazonaws.com', streamStage: 'v1', hostedUiDomain: 'https://p.auth.eu-west-1.amazoncognito.com', clientId: 'client', url: 'https://d1.cloudfront.net' }),
    ).toEqual({
      apiBase: '',
      streamUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/v1',
      auth: { mode: 'cognito', domain: 'https://p.auth.eu-west-1.amazoncognito.com', clientId: 'client', redirectUri: 'https://d1.cloudfront.net/callback', logoutUri: 'https://d1.cloudfront.net/', scopes: 'openid email profile' },
    });
  });

  it('gives the dashboard a public app client with the code grant only and the distribution’s /callback', () => {
    const client = Object.values(service.findResources('AWS::Cognito::UserPoolClient'))[0] as Resource;
    expect(client.Properties).toMatchObject({ AllowedOAuthFlows: ['code'], AllowedOAuthFlowsUserPoolClient: true, GenerateSecret: false, SupportedIdentityProviders: ['COGNITO'] });
    expect(client.Properties['AllowedOAuthScopes'].sort()).toEqual(['email', 'openid', 'profile']);
    expect(JSON.stringify(client.Properties['CallbackURLs'])).toMatch(/DashboardDistribution[0-9A-F]+.*DomainName.*\/callback/);
    stateful.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: { 'Fn::Join': ['', [`event-tracker-${dev.stage}-`, { Ref: 'AWS::AccountId' }]] } });
  });

  it('lets both authorizers accept the ID tokens of the API client and of the dashboard client', () => {
    for (const prefix of ['AuthorizeFunction', 'AuthorizeStreamFunction']) {
      const variables = service.findResources('AWS::Lambda::Function')[functionId(service, prefix)]?.['Properties']?.['Environment']?.['Variables'];
      expect(JSON.stringify(variables['JWT_AUDIENCE'])).toMatch(/UserPoolApiClient[0-9A-F]+"\},",",\{"Ref":"DashboardAppClient[0-9A-F]+/);
    }
  });

  it('streams the export from its function for up to 15 minutes (API Gateway STREAM mode, InvokeWithResponseStream)', () => {
    const exportFunction = functionId(service, 'ExportEventsFunction');
    service.hasResourceProperties('AWS::Lambda::Function', { Timeout: 900 });
    const method = Object.values(service.findResources('AWS::ApiGateway::Method')).find((candidate) => JSON.stringify(candidate['Properties']?.['Integration']?.['Uri'] ?? null).includes(exportFunction)) as Resource;
    expect(method.Properties['Integration']).toMatchObject({ Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM', TimeoutInMillis: 900_000 });
    expect(JSON.stringify(method.Properties['Integration']['Uri'])).toContain('/response-streaming-invocations');
    const others = Object.values(service.findResources('AWS::ApiGateway::Method')).filter((candidate) => candidate !== method && candidate['Properties']?.['Integration']);
    expect(others.filter((candidate) => candidate['Properties']?.['Integration']?.['ResponseTransferMode'] === 'STREAM')).toEqual([]);
  });

  it('gives the retention status function the settings the maintenance job runs with', () => {
    const variables = service.findResources('AWS::Lambda::Function')[functionId(service, 'GetRetentionStatusFunction')]?.['Properties']?.['Environment']?.['Variables'];
    expect(variables).toMatchObject({ EVENT_RETENTION_DAYS: String(dev.retention.eventDays), ROLLUP_RETENTION_DAYS: String(dev.retention.rollupDays), TENANT_EVENT_RETENTION: JSON.stringify(dev.retention.tenantEventDays) });
  });

  it("lets the deployment provider write only the web bucket, besides reading CDK's assets", () => {
    const webBucket = Object.keys(service.findResources('AWS::S3::Bucket'))[0] as string;
    const provider = Object.keys(service.findResources('AWS::Lambda::Function')).find((id) => id.startsWith('CustomCDKBucketDeployment')) as string;
    const writes = statementsOf(service, provider).filter((statement) => [statement.Action].flat().some((action) => /^s3:(Put|Delete)/.test(action)));
    expect(writes.length).toBeGreaterThan(0);
    for (const statement of writes) expect(JSON.stringify(statement.Resource)).toContain(webBucket);
  });

  it('outputs the dashboard URL', () => {
    service.hasOutput('DashboardUrl', { Value: Match.anyValue() });
  });
});
