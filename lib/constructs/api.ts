import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  Cors,
  type CorsOptions,
  EndpointType,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseTransferMode,
  ResponseType,
  RestApi,
  TokenAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { routePaths, type Routes } from '../../lambdas/shared/adapters/http/route-spec.js';
import type { StageConfig } from '../stage-config.js';

export interface ApiProps {
  config: StageConfig;
  routes: Routes;
  authorizer: IFunction;
  /** The function of each route, by the route's key. */
  functions: Record<string, IFunction>;
  logRetention: RetentionDays;
}

/** Segment's routes answer every origin (`cors: 'any-origin'` in the route table); analytics-next sends these headers. */
const ANY_ORIGIN_PREFLIGHT: CorsOptions = {
  allowOrigins: Cors.ALL_ORIGINS,
  allowMethods: ['GET', 'POST', 'OPTIONS'],
  allowHeaders: ['authorization', 'content-type', 'x-retry-count'],
  maxAge: Duration.hours(1),
};

/** A problem+json body for API Gateway's own answers (before any handler runs). */
function problemTemplate(status: number, title: string, detail: string): Record<string, string> {
  return {
    'application/json': JSON.stringify({ type: `/problems/${title.toLowerCase().replace(/ /g, '-')}`, title, status, detail }),
  };
}

/**
 * The REST API: the routes of the table (`lambdas/routes.ts`), the JWT authorizer on those with a scope, stage throttling,
 * JSON access logs, CORS from the stage config, and problem+json for API Gateway's own errors.
 */
export class Api extends Construct {
  readonly restApi: RestApi;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { config } = props;
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.restApi = new RestApi(this, 'RestApi', {
      description: `Event tracker (${config.stage})`,
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: config.stage,
        throttlingRateLimit: config.rateLimits.requestsPerSecond,
        throttlingBurstLimit: config.rateLimits.burst,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
      },
      defaultCorsPreflightOptions:
        config.corsOrigins.length > 0
          ? { allowOrigins: config.corsOrigins, allowMethods: Cors.ALL_METHODS, allowHeaders: ['authorization', 'content-type'], maxAge: Duration.hours(1) }
          : undefined,
      domainName: config.domain
        ? { domainName: config.domain.name, certificate: Certificate.fromCertificateArn(this, 'Certificate', config.domain.certificateArn) }
        : undefined,
    });

    const authorizer = new TokenAuthorizer(this, 'Authorizer', {
      handler: props.authorizer,
      // The policy covers the whole stage, so one cached answer serves every route. Short,
      // because a revoked write key keeps working until its cached answer expires.
      resultsCacheTtl: Duration.seconds(60),
    });

    // Routes open to every origin last: the resources they add below /v1 carry their own
    // preflight, and no route of the configured origins may inherit it.
    const ordered = Object.entries(props.routes).sort(([, a], [, b]) => Number(a.cors === 'any-origin') - Number(b.cors === 'any-origin'));
    for (const [name, route] of ordered) {
      const target = props.functions[name];
      if (!target) throw new Error(`No function for the route ${name} (${route.method} ${route.path}).`);
      // A streamed answer (the export) is read through InvokeWithResponseStream for up to 15 minutes, past the buffered 29 s and 10 MB.
      const integration = route.answer.streamed
        ? new LambdaIntegration(target, { responseTransferMode: ResponseTransferMode.STREAM, timeout: Duration.seconds(route.needs?.timeoutSeconds ?? 900) })
        : new LambdaIntegration(target);
      for (const path of routePaths(route)) {
        const resource = this.resourceFor(path, route.cors === 'any-origin' ? ANY_ORIGIN_PREFLIGHT : undefined);
        const method = resource.addMethod(route.method, integration, route.scope ? { authorizer } : {});
        if (route.scope) {
          Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason: 'The JWT authorizer verifies Cognito tokens through the user pool JWKS (JWKS_URL), and also per-deployment HS256 tokens.' });
          continue;
        }
        const reason = route.credential
          ? `${route.method} ${path}: the handler authenticates the Segment write key (HTTP Basic or the body's writeKey), which no API Gateway authorizer can read from a body.`
          : `${route.method} ${path} is public by design (health check, API description, Segment settings of a live write key).`;
        Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason });
        Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason });
      }
    }

    // The status of the default answers varies (missing route, integration failure): left out, not guessed.
    const gatewayError = (title: string) => ({
      'application/json': `{"type":"/problems/gateway","title":"${title}","detail":$context.error.messageString}`,
    });
    const gatewayResponses: Array<{ id: string; type: ResponseType; statusCode?: string; headers?: Record<string, string>; templates: Record<string, string> }> = [
      { id: 'Unauthorized', type: ResponseType.UNAUTHORIZED, statusCode: '401', headers: { 'WWW-Authenticate': "'Bearer'" }, templates: problemTemplate(401, 'Unauthorized', 'Missing or invalid bearer token.') },
      { id: 'AccessDenied', type: ResponseType.ACCESS_DENIED, statusCode: '403', templates: problemTemplate(403, 'Forbidden', 'The credential does not allow this call.') },
      { id: 'Throttled', type: ResponseType.THROTTLED, statusCode: '429', headers: { 'Retry-After': "'1'" }, templates: problemTemplate(429, 'Too many requests', 'Slow down and retry after the Retry-After delay.') },
      // A function at its reserved concurrency (Lambda's 429) reaches the client as this, not as a
      // bare 500: retryable, as the SDKs and the dashboard treat a 503.
      { id: 'IntegrationFailure', type: ResponseType.INTEGRATION_FAILURE, statusCode: '503', headers: { 'Retry-After': "'1'" }, templates: problemTemplate(503, 'Service unavailable', 'The service is busy or resuming; retry after the Retry-After delay.') },
      { id: 'TooLarge', type: ResponseType.REQUEST_TOO_LARGE, statusCode: '413', templates: problemTemplate(413, 'Payload too large', 'The body is over the API limit.') },
      { id: 'Default4xx', type: ResponseType.DEFAULT_4XX, templates: gatewayError('Request refused') },
      { id: 'Default5xx', type: ResponseType.DEFAULT_5XX, templates: gatewayError('Service failed') },
    ];
    for (const { id: responseId, headers, ...response } of gatewayResponses) {
      this.restApi.addGatewayResponse(responseId, { ...response, responseHeaders: { 'Content-Type': "'application/problem+json'", ...headers } });
    }

    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The AWS policy API Gateway documents for its account-wide logging role.',
    });
    Validations.of(this.restApi).acknowledge({ id: 'AwsSolutions-APIG2', reason: 'Every body is validated by the handler with zod, which names every bad field in a problem+json answer; a gateway model would duplicate it with worse errors.' });
    Validations.of(this.restApi).acknowledge({ id: 'AwsSolutions-APIG3', reason: 'WAF is an operator choice per account (cost); stage throttling and per-tenant limits bound abuse (docs/operations.md).' });
  }

  /** The resource of a path; the segments it adds get `preflight` instead of the API's default. */
  private resourceFor(path: string, preflight: CorsOptions | undefined): IResource {
    let resource: IResource = this.restApi.root;
    for (const part of path.split('/').filter(Boolean)) {
      resource = resource.getResource(part) ?? resource.addResource(part, preflight ? { defaultCorsPreflightOptions: preflight } : undefined);
    }
    return resource;
  }
}
