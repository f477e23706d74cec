import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration, WebSocketMockIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { CfnIntegrationResponse, type WebSocketIntegration } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, Billing, StreamViewType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { OUTBOX_BATCH_SIZE, STREAM_CONNECTIONS_TABLE_KEYS, STREAM_CONNECTIONS_TTL_ATTRIBUTE, STREAM_OUTBOX_TABLE_KEYS, STREAM_OUTBOX_TTL_ATTRIBUTE } from '../../lambdas/shared/adapters/dynamodb/tables.js';
import { ENV } from '../../lambdas/shared/config.js';
import type { AppFunction } from './app-function.js';
import type { StageConfig } from '../stage-config.js';

export interface LiveStreamProps {
  config: StageConfig;
  /** `$connect`'s authorizer: the same JWT and write-key rules as the REST API's. */
  authorizer: AppFunction;
  connect: AppFunction;
  disconnect: AppFunction;
  /** `$default`: every client frame but a ping; answers resumes, refuses the rest. Outside the VPC. */
  message: AppFunction;
  /** Reads a resume's events from Aurora, in the VPC; invoked by `message` alone. */
  replayReader: AppFunction;
  /** Puts the stored events of tenants with a connection into the outbox, after its commit. In the VPC. */
  writer: AppFunction;
  /** Posts the outbox's events to the connections, run by the outbox's stream. Outside the VPC. */
  fanOut: AppFunction;
  logRetention: RetentionDays;
}

/**
 * The live stream in AWS: a WebSocket API whose `$connect` is authorized by a Lambda reading
 * the token the client offers as a subprotocol (`Sec-WebSocket-Protocol: bearer, <token>`,
 * never in the URL), a connections table by tenant (TTL: a row whose `$disconnect` was lost
 * expires after API Gateway's 2-hour limit), and the fan-out: the writer
 * (in the VPC, no NAT, so it cannot reach the management endpoint) puts stored events into an
 * outbox table, whose stream runs a function outside the VPC that posts them. The `ping` route
 * is a mock answering `pong`: a client's `{"action":"ping"}` keeps the socket past API Gateway's
 * 10-minute idle timeout without a function call. `$default` takes every other frame.
 */
export class LiveStream extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  readonly connections: TableV2;
  readonly outbox: TableV2;

  constructor(scope: Construct, id: string, props: LiveStreamProps) {
    super(scope, id);
    const { config } = props;
    // Connections live for hours at most and are rebuilt by reconnecting: nothing to retain or recover.
    this.connections = new TableV2(this, 'Connections', {
      partitionKey: { name: STREAM_CONNECTIONS_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: STREAM_CONNECTIONS_TABLE_KEYS.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: STREAM_CONNECTIONS_TTL_ATTRIBUTE,
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.connections).acknowledge({ id: 'AwsSolutions-DDB3', reason: 'Open WebSocket connections only, each gone within 2 hours; a restore would name sockets that no longer exist.' });

    const authorizer = new WebSocketLambdaAuthorizer('StreamAuthorizer', props.authorizer, {
      // The credential is a subprotocol: a handshake without the header is answered 401 by API
      // Gateway, no function called. WebSocket authorizers cache nothing, so this is no cache key.
      identitySource: ['route.request.header.Sec-WebSocket-Protocol'],
    });
    this.api = new WebSocketApi(this, 'Api', {
      apiName: `event-tracker-stream-${config.stage}`,
      description: `Event tracker live stream (${config.stage})`,
      connectRouteOptions: { integration: new WebSocketLambdaIntegration('Connect', props.connect), authorizer },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('Disconnect', props.disconnect) },
      defaultRouteOptions: { integration: new WebSocketLambdaIntegration('Message', props.message) },
    });
    this.answerPings();
    for (const key of ['$disconnect', '$default', 'ping']) {
      Validations.of(this.api.node.findChild(`${key}-Route`)).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'API Gateway authorizes a WebSocket once, at $connect; later routes of that connection carry its authorizer context and take no credential.',
      });
    }
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: 'v1',
      autoDeploy: true,
      throttle: { rateLimit: config.rateLimits.requestsPerSecond, burstLimit: config.rateLimits.burst },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // Named fields only: neither the query string nor a header (the token's) is written.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            connectionId: '$context.connectionId',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            status: '$context.status',
            tenantId: '$context.authorizer.tenantId',
            requestTime: '$context.requestTime',
            error: '$context.error.message',
          }),
        ),
      },
    });

    const tableName = this.connections.tableName;
    props.connect.bindSettings({ [ENV.streamConnectionsTable]: tableName });
    props.connect.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.connections.tableArn] }));
    props.disconnect.bindSettings({ [ENV.streamConnectionsTable]: tableName });
    props.disconnect.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:DeleteItem'], resources: [this.connections.tableArn] }));

    this.outbox = this.fanOutThroughOutbox(props);

    // The frames' function reads one connection's row, posts to and closes connections, and
    // has the VPC function read Postgres for it: it cannot be in the VPC itself, which has no
    // NAT, and API Gateway's management endpoint is public only.
    props.message.bindSettings({ [ENV.streamConnectionsTable]: tableName, [ENV.streamEndpoint]: this.stage.callbackUrl, [ENV.streamReplayFunction]: props.replayReader.functionName });
    props.message.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.connections.tableArn] }));
    props.message.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.replayReader.functionArn] }));
    const connectionsOf = (method: string) => `${this.stage.stageName}/${method}/@connections/*`;
    props.message.addToRolePolicy(
      new PolicyStatement({
        actions: ['execute-api:ManageConnections'],
        // PostToConnection (POST) and DeleteConnection (DELETE), on this API's stage.
        resources: ['POST', 'DELETE'].map((method) => Stack.of(this).formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: connectionsOf(method) })),
      }),
    );
    for (const method of ['POST', 'DELETE']) {
      Validations.of(props.message).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${this.connectionsArnText(`/${connectionsOf(method)}`)}]`,
        reason: "Connection ids are made by API Gateway at run time; the grant is this API's stage, posting and closing alone.",
      });
    }
  }

  /**
   * The writer may look up its tenants' connections and put items into the outbox, nothing
   * more. The outbox's stream (new images, inserts only: TTL deletes run nothing) invokes the
   * fan-out, which may read and remove connection rows and post to this API's connections. The
   * event source bounds a failing batch: halved on error, retried twice, and records older than
   * 5 minutes are dropped, so a poison record cannot hold the shard and nothing stale is sent
   * as live. There is no failure destination: the stream is best effort.
   */
  private fanOutThroughOutbox(props: LiveStreamProps): TableV2 {
    const outbox = new TableV2(this, 'Outbox', {
      partitionKey: { name: STREAM_OUTBOX_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: STREAM_OUTBOX_TABLE_KEYS.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: STREAM_OUTBOX_TTL_ATTRIBUTE,
      dynamoStream: StreamViewType.NEW_IMAGE,
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(outbox).acknowledge({ id: 'AwsSolutions-DDB3', reason: 'A hand-off of live-stream events that expires within minutes; the events are in Aurora.' });

    props.writer.bindSettings({ [ENV.streamConnectionsTable]: this.connections.tableName, [ENV.streamOutboxTable]: outbox.tableName });
    props.writer.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: [this.connections.tableArn] }));
    props.writer.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [outbox.tableArn] }));

    props.fanOut.bindSettings({ [ENV.streamConnectionsTable]: this.connections.tableName, [ENV.streamEndpoint]: this.stage.callbackUrl });
    props.fanOut.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:Query', 'dynamodb:DeleteItem'], resources: [this.connections.tableArn] }));
    props.fanOut.addToRolePolicy(
      new PolicyStatement({
        actions: ['execute-api:ManageConnections'],
        // PostToConnection only (DeleteConnection is DELETE, GetConnection GET), on this API's stage.
        resources: [Stack.of(this).formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: `${this.stage.stageName}/POST/@connections/*` })],
      }),
    );
    Validations.of(props.fanOut).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${this.connectionsArnText('/v1/POST/@connections/*')}]`,
      reason: "Connection ids are made by API Gateway at run time; the grant is this API's stage and PostToConnection alone.",
    });
    props.fanOut.addEventSource(
      new DynamoEventSource(outbox, {
        startingPosition: StartingPosition.LATEST,
        batchSize: OUTBOX_BATCH_SIZE,
        // Batches of one shard in parallel; a tenant's records (one partition key) stay in order.
        parallelizationFactor: 4,
        bisectBatchOnError: true,
        retryAttempts: 2,
        maxRecordAge: Duration.minutes(5),
        filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT') })],
      }),
    );
    return outbox;
  }

  /** How cdk-nag spells an ARN of this API in an acknowledgement. */
  private connectionsArnText(path: string): string {
    const stack = Stack.of(this);
    return `arn:<AWS::Partition>:execute-api:${stack.region}:${stack.account}:<${stack.getLogicalId(this.api.node.defaultChild as CfnElement)}>${path}`;
  }

  /**
   * `{"action":"ping"}` answered `{"type":"pong"}` by API Gateway itself: a mock integration
   * whose response template is the pong, returned to the client by the route's response.
   */
  private answerPings(): void {
    const route = this.api.addRoute('ping', {
      integration: new WebSocketMockIntegration('Pong', { requestTemplates: { $default: '{"statusCode":200}' }, templateSelectionExpression: '\\$default' }),
      returnResponse: true,
    });
    const integration = route.node.findChild('Pong') as WebSocketIntegration;
    new CfnIntegrationResponse(this, 'PongResponse', {
      apiId: this.api.apiId,
      integrationId: integration.integrationId,
      integrationResponseKey: '$default',
      templateSelectionExpression: '\\$default',
      responseTemplates: { $default: '{"type":"pong"}' },
    });
  }
}
