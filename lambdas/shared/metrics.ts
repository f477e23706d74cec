/** The CloudWatch namespace of the product's own metrics; the dashboard reads the same constant. */
export const METRICS_NAMESPACE = 'EventTracker';

export const METRIC = {
  eventsAccepted: 'EventsAccepted',
  eventsRejected: 'EventsRejected',
  /** A request let through because the rate-limit table did not answer in time. */
  rateLimiterFailedOpen: 'RateLimiterFailedOpen',
} as const;

/**
 * Writes counts in CloudWatch's embedded metric format: one log line, no API call, no
 * latency on the request path. Locally it is just another JSON log line.
 */
export function emitCounts(counts: Partial<Record<(typeof METRIC)[keyof typeof METRIC], number>>): void {
  const names = Object.keys(counts);
  if (names.length === 0) return;
  console.log(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [[]], Metrics: names.map((name) => ({ Name: name, Unit: 'Count' })) }],
      },
      ...counts,
    }),
  );
}
