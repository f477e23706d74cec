import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, Dashboard, GraphWidget, MathExpression, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { DatabaseCluster } from 'aws-cdk-lib/aws-rds';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../../lambdas/shared/metrics.js';
import type { StageConfig } from '../stage-config.js';

/** Alarm thresholds: each is a promise the product makes (DESIGN.md's AC numbers) or a sign of loss. */
export const ALARM = {
  /** The specification: an event is queryable within 5 s; a minute of queue age means it is not. */
  oldestMessageSeconds: 60,
  /** Share of API answers that are 5xx over 5 minutes. */
  serverErrorRate: 0.01,
  /** p95 of the API's own latency. */
  latencyP95Ms: 500,
} as const;

export interface ObservabilityProps {
  config: StageConfig;
  api: RestApi;
  queue: IQueue;
  deadLetterQueue: IQueue;
  writer: IFunction;
  queryFunctions: IFunction[];
  cluster: DatabaseCluster;
}

/** The dashboard operators open first, and the alarms that page them (SNS to the on-call e-mail). */
export class Observability extends Construct {
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: `Event tracker alarms (${props.config.stage})`, enforceSSL: true });
    this.alarmTopic.addSubscription(new EmailSubscription(props.config.alarmEmail));

    const fiveMinutes = Duration.minutes(5);
    const ownMetric = (metricName: string) => new Metric({ namespace: METRICS_NAMESPACE, metricName, statistic: 'Sum', period: fiveMinutes });
    const accepted = ownMetric(METRIC.eventsAccepted);
    const rejected = ownMetric(METRIC.eventsRejected);
    const requests = props.api.metricCount({ period: fiveMinutes });
    const serverErrors = props.api.metricServerError({ period: fiveMinutes });
    const latencyP95 = props.api.metricLatency({ statistic: 'p95', period: fiveMinutes });
    const queueDepth = props.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) });
    const oldestMessage = props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1) });
    const deadLetters = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) });
    const errorRate = new MathExpression({ expression: 'IF(requests > 0, errors / requests, 0)', usingMetrics: { errors: serverErrors, requests }, period: fiveMinutes, label: '5xx rate' });

    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({ title: 'Events accepted vs rejected', left: [accepted, rejected], width: 12 }),
          new GraphWidget({ title: 'API requests and 5xx', left: [requests], right: [serverErrors], width: 12 }),
        ],
        [
          new GraphWidget({ title: 'Events queue depth and oldest message (s)', left: [queueDepth], right: [oldestMessage], width: 12 }),
          new GraphWidget({ title: 'Dead-letter queue depth', left: [deadLetters], width: 12 }),
        ],
        [
          new GraphWidget({ title: 'Writer duration p95 and errors', left: [props.writer.metricDuration({ statistic: 'p95' })], right: [props.writer.metricErrors()], width: 12 }),
          new GraphWidget({ title: 'API latency p95 and query functions p95', left: [latencyP95, ...props.queryFunctions.map((fn) => fn.metricDuration({ statistic: 'p95' }))], width: 12 }),
        ],
        [
          new GraphWidget({
            title: 'Aurora capacity (ACU) and connections',
            left: [props.cluster.metric('ServerlessDatabaseCapacity', { statistic: 'Average' })],
            right: [props.cluster.metricDatabaseConnections()],
            width: 24,
          }),
        ],
      ],
    });

    this.alarm('DeadLetterQueueNotEmpty', deadLetters, 0, 'Events failed to be written five times and wait in the DLQ: read docs/operations.md, replay the DLQ.');
    this.alarm('QueueBacklog', oldestMessage, ALARM.oldestMessageSeconds, 'The oldest queued event waits more than a minute: the writer is failing or too slow.');
    this.alarm('ServerErrorRate', errorRate, ALARM.serverErrorRate, 'More than 1% of API answers are 5xx.');
    this.alarm('LatencyP95', latencyP95, ALARM.latencyP95Ms, 'API p95 latency is over 500 ms.', 3);
    this.alarm(
      'RateLimiterFailedOpen',
      ownMetric(METRIC.rateLimiterFailedOpen),
      0,
      'Requests passed without a rate-limit check: the counters table is slow or failing (DynamoDB health, the VPC endpoint).',
    );
    this.alarm('WriterErrors', props.writer.metricErrors({ period: fiveMinutes }), 0, 'The writer function itself fails (not single records).');
  }

  private alarm(id: string, metric: IMetric, threshold: number, description: string, evaluationPeriods = 1): void {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    alarm.addOkAction(new SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}
