import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, Dashboard, GraphWidget, MathExpression, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Function as LambdaFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { DatabaseCluster } from 'aws-cdk-lib/aws-rds';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EventTypeEnum } from '../../lambdas/shared/domain/event-schemas.js';
import { EVENT_TYPE_DIMENSION, METRIC, METRICS_NAMESPACE, type MetricName } from '../../lambdas/shared/metrics.js';
import type { StageConfig } from '../stage-config.js';

/** Alarm thresholds: each is a promise the product makes (DESIGN.md's AC numbers) or a sign of loss. */
export const ALARM = {
  /** The specification: an event is queryable within 5 s; a minute of queue age means it is not. */
  oldestMessageSeconds: 60,
  /** Share of API answers that are 5xx over 5 minutes. */
  serverErrorRate: 0.01,
  /** p95 of the API's own latency. */
  latencyP95Ms: 500,
  /** Share of the events sent over 5 minutes that were refused: a client sends what the contract refuses. */
  rejectedShare: 0.05,
  /** Below this many events in 5 minutes a share says little (one bad event of three is 33%). */
  rejectedShareMinEvents: 100,
  /** Queue depth as full receives of every writer at once: a backlog the writers need that many rounds for. */
  queueDepthWriterRounds: 10,
  /** Failed records in this many 5-minute periods in a row: past a transient blip, before the DLQ (5 receives, 3 min apart). */
  failedRecordPeriods: 2,
  /** Share of its timeout the maintenance job may run before it warns: the month it exports is close to not fitting. */
  maintenanceDurationShare: 0.8,
} as const;

export interface ObservabilityProps {
  config: StageConfig;
  api: RestApi;
  queue: IQueue;
  deadLetterQueue: IQueue;
  writer: IFunction;
  /** The hourly maintenance job (partitions, archive, retention). */
  maintenance: LambdaFunction;
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
    const ownMetric = (metricName: MetricName, dimensionsMap?: Record<string, string>) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap, statistic: 'Sum', period: fiveMinutes });
    const accepted = ownMetric(METRIC.eventsAccepted);
    const rejected = ownMetric(METRIC.eventsRejected);
    const failedRecords = ownMetric(METRIC.queueRecordsFailed);
    const writtenByType = EventTypeEnum.options.map((type) => ownMetric(METRIC.eventsWritten, { [EVENT_TYPE_DIMENSION]: type }).with({ label: type }));
    const hour = Duration.hours(1);
    const maintenanceErrors = props.maintenance.metricErrors({ period: hour });
    const maintenanceDuration = props.maintenance.metricDuration({ statistic: 'Maximum', period: hour });
    const verifyFailed = ownMetric(METRIC.archiveVerifyFailed).with({ period: hour });
    const partitionOnTheFly = ownMetric(METRIC.partitionCreatedOnTheFly).with({ period: hour });
    const requests = props.api.metricCount({ period: fiveMinutes });
    const serverErrors = props.api.metricServerError({ period: fiveMinutes });
    const latencyP95 = props.api.metricLatency({ statistic: 'p95', period: fiveMinutes });
    const queueDepth = props.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) });
    const oldestMessage = props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1) });
    const deadLetters = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) });
    const errorRate = new MathExpression({ expression: 'IF(requests > 0, errors / requests, 0)', usingMetrics: { errors: serverErrors, requests }, period: fiveMinutes, label: '5xx rate' });
    const rejectedShare = new MathExpression({
      expression: `IF(FILL(accepted, 0) + FILL(rejected, 0) >= ${ALARM.rejectedShareMinEvents}, FILL(rejected, 0) / (FILL(accepted, 0) + FILL(rejected, 0)), 0)`,
      usingMetrics: { accepted, rejected },
      period: fiveMinutes,
      label: 'share of events rejected',
    });
    /**
     * 1 for a 5-minute period in which no event was accepted and no message waited: the sources
     * went silent (a broken client, DNS, the authorizer), which no error alarm sees. A backlog is
     * left to the queue alarms. Silent ingest publishes no EventsAccepted at all, so missing
     * data is the signal and breaches.
     */
    const silentIngest = new MathExpression({
      expression: 'IF(FILL(accepted, 0) == 0 AND FILL(waiting, 0) == 0, 1, 0)',
      usingMetrics: { accepted, waiting: queueDepth.with({ period: fiveMinutes }) },
      period: fiveMinutes,
      label: 'silent ingest',
    });

    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({ title: 'Events accepted vs rejected', left: [accepted, rejected], right: [rejectedShare], width: 12 }),
          new GraphWidget({ title: 'API requests and 5xx', left: [requests], right: [serverErrors], width: 12 }),
        ],
        [new GraphWidget({ title: 'Events written, by type (an id sent twice counts twice)', left: writtenByType, stacked: true, width: 24 })],
        [
          new GraphWidget({ title: 'Events queue depth and oldest message (s)', left: [queueDepth], right: [oldestMessage], width: 12 }),
          new GraphWidget({ title: 'Records the writer handed back, and dead-letter queue depth', left: [failedRecords], right: [deadLetters], width: 12 }),
        ],
        [
          new GraphWidget({ title: 'Writer duration p95 and errors', left: [props.writer.metricDuration({ statistic: 'p95' })], right: [props.writer.metricErrors()], width: 12 }),
          new GraphWidget({ title: 'API latency p95 and query functions p95', left: [latencyP95, ...props.queryFunctions.map((fn) => fn.metricDuration({ statistic: 'p95' }))], width: 12 }),
        ],
        [
          new GraphWidget({ title: 'Maintenance: longest run (ms) and failed runs', left: [maintenanceDuration], right: [maintenanceErrors], width: 12 }),
          new GraphWidget({ title: 'Archives that failed verification, partitions the writer had to create', left: [verifyFailed, partitionOnTheFly], width: 12 }),
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

    this.alarm('DeadLetterQueueNotEmpty', { metric: deadLetters, threshold: 0, description: 'Events failed to be written five times and wait in the DLQ: read docs/operations.md, replay the DLQ.' });
    this.alarm('QueueBacklog', { metric: oldestMessage, threshold: ALARM.oldestMessageSeconds, description: 'The oldest queued event waits more than a minute: the writer is failing or too slow.' });
    const { batchSize, maxConcurrency } = props.config.writer;
    this.alarm('QueueDepth', {
      metric: queueDepth,
      threshold: batchSize * maxConcurrency * ALARM.queueDepthWriterRounds,
      periods: 5,
      description: `More messages wait than every writer takes in ${ALARM.queueDepthWriterRounds} receives, for 5 minutes: a backlog is building (writer slow or capped, Aurora at max capacity).`,
    });
    this.alarm('QueueRecordsFailed', {
      metric: failedRecords,
      threshold: 0,
      periods: ALARM.failedRecordPeriods,
      description: 'The writer hands records back to the queue in consecutive 5-minute periods: they are retried, and go to the DLQ after five receives.',
    });
    this.alarm('RejectedEventsShare', {
      metric: rejectedShare,
      threshold: ALARM.rejectedShare,
      description: `More than ${ALARM.rejectedShare * 100}% of the events sent in 5 minutes were refused (invalid, too large, not queued).`,
    });
    this.alarm('IngestSilent', {
      metric: silentIngest,
      threshold: 0,
      periods: props.config.alarms.silentIngestMinutes / 5,
      treatMissingData: TreatMissingData.BREACHING,
      description: `No event accepted for ${props.config.alarms.silentIngestMinutes} minutes while nothing waits in the queue: the sources went silent.`,
    });
    this.alarm('ServerErrorRate', { metric: errorRate, threshold: ALARM.serverErrorRate, description: 'More than 1% of API answers are 5xx.' });
    this.alarm('LatencyP95', { metric: latencyP95, threshold: ALARM.latencyP95Ms, periods: 3, description: 'API p95 latency is over 500 ms.' });
    this.alarm('RateLimiterFailedOpen', {
      metric: ownMetric(METRIC.rateLimiterFailedOpen),
      threshold: 0,
      description: 'Requests passed without a rate-limit check: the counters table is slow or failing (DynamoDB health, the VPC endpoint).',
    });
    this.alarm('LiveCountersBehind', {
      metric: ownMetric(METRIC.liveCounterFlushFailed),
      threshold: 0,
      periods: 3,
      description: 'The writer could not flush the live counters for 15 minutes: GET /v1/counters/live lags (deltas wait in the outbox, nothing is lost within the TTL). DynamoDB health, the writer logs.',
    });
    this.alarm('MaintenanceErrors', {
      metric: maintenanceErrors,
      threshold: 0,
      description: 'A maintenance run failed or timed out: partitions ahead, archive or retention did not finish. Its log says which step (docs/operations.md, Retention in AWS).',
    });
    // Lambda's own default when a function sets none.
    const timeout = props.maintenance.timeout ?? Duration.seconds(3);
    this.alarm('MaintenanceNearTimeout', {
      metric: maintenanceDuration,
      threshold: timeout.toMilliseconds() * ALARM.maintenanceDurationShare,
      description: `A maintenance run took more than ${ALARM.maintenanceDurationShare * 100}% of its ${timeout.toMinutes()}-minute timeout: a month's archive is close to not fitting one run.`,
    });
    this.alarm('ArchiveVerifyFailed', {
      metric: verifyFailed,
      threshold: 0,
      description: 'An archive read back from S3 did not match its partition (rows or checksum): nothing was dropped. Read docs/operations.md before rerunning.',
    });
    this.alarm('PartitionCreatedOnTheFly', {
      metric: partitionOnTheFly,
      threshold: 0,
      description: 'The writer had to create a monthly partition itself: the maintenance job has not kept months ahead (is its schedule enabled, does it fail?).',
    });
    this.alarm('WriterErrors', { metric: props.writer.metricErrors({ period: fiveMinutes }), threshold: 0, description: 'The writer function itself fails (not single records).' });
  }

  /** Alarms above the threshold in every one of `periods` periods in a row; missing data does not breach unless told. */
  private alarm(id: string, options: { metric: IMetric; threshold: number; description: string; periods?: number; treatMissingData?: TreatMissingData }): void {
    const alarm = new Alarm(this, id, {
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.periods ?? 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    alarm.addOkAction(new SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}
