/** The CloudWatch namespace of the product's own metrics; the dashboard reads the same constant. */
export const METRICS_NAMESPACE = 'EventTracker';

export const METRIC = {
  eventsAccepted: 'EventsAccepted',
  eventsRejected: 'EventsRejected',
  /** A request let through because the rate-limit table did not answer in time. */
  rateLimiterFailedOpen: 'RateLimiterFailedOpen',
  /** Records of a delivery the writer handed back to the queue (its SQS `batchItemFailures`). */
  queueRecordsFailed: 'QueueRecordsFailed',
  /**
   * Events of the messages the writer finished, in total and per event type. An id a client sent
   * twice counts twice here; the database stores it once.
   */
  eventsWritten: 'EventsWritten',
  /** An archive read back did not match its partition (row counts or checksum); the partition stays. */
  archiveVerifyFailed: 'ArchiveVerifyFailed',
  /** The writer found no partition for a month and created it: the maintenance job did not keep months ahead. */
  partitionCreatedOnTheFly: 'PartitionCreatedOnTheFly',
  /** Events of partitions archived, verified and dropped by the maintenance job. */
  eventsArchived: 'EventsArchived',
  /** A flush of the live counters failed (DynamoDB or the outbox); its deltas wait for the next one. */
  liveCounterFlushFailed: 'LiveCounterFlushFailed',
  /** Minute counts of deltas that waited longer than the counters' TTL, dropped unapplied. */
  liveCounterDeltasExpired: 'LiveCounterDeltasExpired',
  /** A read found more events in stale event sets than it takes from the table, and was answered from the events: the writer did not keep them. */
  readsPastStaleSets: 'ReadsPastStaleSets',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The dimension of the counts per event type. */
export const EVENT_TYPE_DIMENSION = 'EventType';

/**
 * One log line in CloudWatch's embedded metric format: no API call, no latency on the request
 * path. Every dimension set is published for every metric of the line; locally it is just
 * another JSON log line.
 */
function emitLine(counts: Partial<Record<MetricName, number>>, dimensionSets: string[][], dimensions: Record<string, string> = {}): void {
  const names = Object.keys(counts);
  if (names.length === 0) return;
  console.log(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: dimensionSets, Metrics: names.map((name) => ({ Name: name, Unit: 'Count' })) }],
      },
      ...dimensions,
      ...counts,
    }),
  );
}

/** Counts without a dimension. */
export function emitCounts(counts: Partial<Record<MetricName, number>>): void {
  emitLine(counts, [[]]);
}

/**
 * One count per event type, and their total. A line holds one value per metric for one set of
 * dimension values, so each type gets its own line; each line also counts towards the total
 * (the empty dimension set), which therefore sums the types.
 */
export function emitCountsByEventType(metric: MetricName, counts: ReadonlyMap<string, number>): void {
  for (const [type, count] of counts) emitLine({ [metric]: count }, [[EVENT_TYPE_DIMENSION], []], { [EVENT_TYPE_DIMENSION]: type });
}
