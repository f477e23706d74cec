import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitCounts, emitCountsByEventType, EVENT_TYPE_DIMENSION, METRIC } from '../../../lambdas/shared/metrics.js';
import { recordMetrics } from '../../support/emf.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('metric lines', () => {
  it('publish counts without a dimension from one line', () => {
    const metrics = recordMetrics();

    emitCounts({ [METRIC.eventsAccepted]: 7, [METRIC.eventsRejected]: 2 });

    expect(metrics.lines).toBe(1);
    expect(metrics.datapoints()).toEqual([
      { metric: 'EventsAccepted', dimensions: {}, value: 7 },
      { metric: 'EventsRejected', dimensions: {}, value: 2 },
    ]);
  });

  it('publish each event type on a line of its own, each also counting towards the total', () => {
    const metrics = recordMetrics();

    emitCountsByEventType(METRIC.eventsWritten, new Map([['ERROR', 3], ['CUSTOM', 5]]));

    expect(metrics.lines).toBe(2);
    expect(metrics.datapoints()).toEqual([
      { metric: 'EventsWritten', dimensions: { [EVENT_TYPE_DIMENSION]: 'ERROR' }, value: 3 },
      { metric: 'EventsWritten', dimensions: {}, value: 3 },
      { metric: 'EventsWritten', dimensions: { [EVENT_TYPE_DIMENSION]: 'CUSTOM' }, value: 5 },
      { metric: 'EventsWritten', dimensions: {}, value: 5 },
    ]);
  });

  it('write nothing when there is nothing to count', () => {
    const metrics = recordMetrics();

    emitCounts({});
    emitCountsByEventType(METRIC.eventsWritten, new Map());

    expect(metrics.lines).toBe(0);
  });
});
