import { expect, vi } from 'vitest';
import { METRICS_NAMESPACE } from '../../lambdas/shared/metrics.js';

/** One value CloudWatch would publish: a metric, its dimension values, the value. */
export interface Datapoint {
  metric: string;
  dimensions: Record<string, string>;
  value: number;
}

interface MetricDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string; Unit?: string }>;
}

/**
 * What CloudWatch extracts from one embedded-metric-format line, after checking the rules that
 * make it drop a line: every dimension key names a string member of the line, every metric a
 * number member, at most 30 keys in a dimension set.
 */
function extract(line: Record<string, unknown>): Datapoint[] {
  const meta = line['_aws'] as { Timestamp: unknown; CloudWatchMetrics: MetricDirective[] };
  expect(typeof meta.Timestamp).toBe('number');
  return meta.CloudWatchMetrics.flatMap((directive) => {
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    return directive.Dimensions.flatMap((keys) => {
      expect(keys.length).toBeLessThanOrEqual(30);
      for (const key of keys) expect(typeof line[key], `dimension ${key}`).toBe('string');
      const dimensions = Object.fromEntries(keys.map((key) => [key, line[key] as string]));
      return directive.Metrics.map(({ Name }) => {
        expect(typeof line[Name], `metric ${Name}`).toBe('number');
        return { metric: Name, dimensions, value: line[Name] as number };
      });
    });
  });
}

/** Records what the code under test logs; `datapoints()` reads its metric lines as CloudWatch would. */
export function recordMetrics(): { lines: number; datapoints(): Datapoint[] } {
  const logged: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void logged.push(line));
  const metricLines = () => logged.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => '_aws' in line);
  return {
    get lines() {
      return metricLines().length;
    },
    datapoints: () => metricLines().flatMap(extract),
  };
}
