import { streamSubprotocols } from '../../../lambdas/shared/domain/stream-credential.js';
import { getJson, postJson, query, streamUrl } from '../api.js';
import { chart } from '../chart.js';
import { fill, h, panel, table } from '../dom.js';
import type { Route } from '../route.js';
import { getToken } from '../session.js';
import { change, formatInstant, formatMs, formatNumber, granularityFor, iso } from '../time.js';
import type { Aggregation, ErrorGroups, EventTypeSummary, LiveCounters, StoredEvent } from '../types.js';
import { loadInto, notAvailable } from '../ui.js';
import type { Cleanup } from '../main.js';
import { periodControls, windowOf } from './controls.js';
import { navigate } from '../route.js';

const TOP = 8;
/** A bucket's width; a local day across DST is an hour off, which only moves where the axis ends. */
const GRANULARITY_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
const LIVE_EVENTS = 20;

interface Totals {
  events: number;
  users: number;
  sessions: number;
  errors: number;
  categories: number;
  actions: number;
}

function totalsOf(answer: Aggregation): Totals {
  const errors = answer.data.filter((row) => row.type === 'ERROR').reduce((sum, row) => sum + row.count, 0);
  const { totalEvents, uniqueUsers, uniqueSessions, categories, actions } = answer.summary;
  return { events: totalEvents, users: uniqueUsers, sessions: uniqueSessions, errors, categories, actions };
}

function topNumbers(current: Totals, previous: Totals): HTMLElement {
  const items: Array<[keyof Totals, string]> = [
    ['events', 'Events'],
    ['users', 'Unique users'],
    ['sessions', 'Sessions'],
    ['errors', 'Errors'],
    ['categories', 'Categories'],
    ['actions', 'Actions'],
  ];
  return h(
    'dl',
    { class: 'numbers' },
    ...items.map(([key, label]) => {
      const delta = change(current[key], previous[key]);
      // More errors is the bad direction; for everything else more is neutral-to-good.
      const tone = delta.direction === 'flat' ? 'flat' : (delta.direction === 'up') === (key === 'errors') ? 'bad' : 'good';
      return h(
        'div',
        { class: 'number', data: { metric: key } },
        h('dt', {}, label),
        h('dd', {}, h('span', { class: 'value' }, formatNumber(current[key])), h('span', { class: `delta ${tone}`, title: `previous period: ${formatNumber(previous[key])}` }, delta.text)),
      );
    }),
  );
}

/** Buckets as the chart's x values and, per key, a value for each bucket (null where absent). */
function pivot<T>(rows: T[], period: (row: T) => string, key: (row: T) => string, value: (row: T) => number | null): { x: number[]; keys: string[]; values: Map<string, (number | null)[]> } {
  const x = [...new Set(rows.map(period))].map((text) => Date.parse(text)).sort((a, b) => a - b);
  const index = new Map(x.map((ms, i) => [ms, i]));
  const values = new Map<string, (number | null)[]>();
  for (const row of rows) {
    const k = key(row);
    if (!values.has(k)) values.set(k, x.map(() => null));
    (values.get(k) as (number | null)[])[index.get(Date.parse(period(row))) as number] = value(row);
  }
  return { x, keys: [...values.keys()].sort(), values };
}

function ranked(title: string, counts: Map<string, number>): HTMLElement {
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No events in this period.');
  return table(
    title,
    [title, 'Events', 'Share'],
    rows.map(([name, count]) => [h('span', { class: 'text-cell' }, name), formatNumber(count), h('span', { class: 'share' }, h('meter', { min: '0', max: '1', value: String(count / total), aria: { label: `${formatNumber((100 * count) / total)} percent` } }), `${formatNumber((100 * count) / total)}%`)]),
    { numeric: [1, 2] },
  );
}

export function renderOverview(main: HTMLElement, route: Route): Cleanup {
  const win = windowOf(route);
  const { start, end } = win.range;
  const span = end - start;
  const granularity = granularityFor(span);
  const range = { startTime: iso(start), endTime: iso(end), timezone: win.zone };
  const previous = { startTime: iso(start - span), endTime: iso(start - 1), timezone: win.zone };

  const numbers = panel('Top numbers', { wide: true, id: 'numbers' });
  const byType = panel('Events by type', { wide: true, id: 'by-type' });
  const categories = panel('Top categories', { id: 'categories' });
  const actions = panel('Top actions', { id: 'actions' });
  const errors = panel('Error groups', { wide: true, id: 'errors' });
  const perf = panel('PERFORMANCE p50 / p95 / p99', { wide: true, id: 'performance' });
  const lag = panel('Ingestion lag by type', { id: 'lag' });
  const live = panel('Live', { id: 'live' });
  fill(
    main,
    h('div', { class: 'view-head' }, h('h1', {}, 'Overview'), h('p', { class: 'muted' }, `${win.range.label}, ${win.zone}; every change is against the ${formatNumber(span / 86_400_000 >= 1 ? span / 86_400_000 : span / 3_600_000)} ${span >= 86_400_000 ? 'days' : 'hours'} before.`)),
    periodControls(route, win),
    h('div', { class: 'grid' }, numbers.root, byType.root, categories.root, actions.root, errors.root, perf.root, lag.root, live.root),
  );
  document.body.dataset['overview'] = 'loading';

  const current = postJson<Aggregation>('/v1/analytics/aggregate', { ...range, granularity, groupBy: ['event_type'] });
  const panels = [
    loadInto(numbers.body, async () => {
      const [now, before] = await Promise.all([current, postJson<Aggregation>('/v1/analytics/aggregate', { ...previous, granularity, groupBy: ['event_type'] })]);
      return topNumbers(totalsOf(now), totalsOf(before));
    }),
    loadInto(byType.body, async () => {
      const answer = await current;
      if (answer.data.length === 0) return h('p', { class: 'muted' }, 'No events in this period.');
      const { x, keys, values } = pivot(answer.data, (row) => row.period, (row) => row.type ?? 'unknown', (row) => row.count);
      return chart({ kind: 'stacked', title: `Events by type per ${granularity}`, x, span: [start, end], bucketMs: GRANULARITY_MS[granularity], zone: win.zone, series: keys.map((key) => ({ label: key, values: values.get(key) ?? [] })) });
    }),
    (async () => {
      const grouped = postJson<Aggregation>('/v1/analytics/aggregate', { ...range, granularity: granularity === 'minute' ? 'hour' : 'day', groupBy: ['category', 'action'] });
      const sum = (key: 'category' | 'action') => async () => {
        const counts = new Map<string, number>();
        for (const row of (await grouped).data) counts.set(row[key] ?? '', (counts.get(row[key] ?? '') ?? 0) + row.count);
        return ranked(key === 'category' ? 'Category' : 'Action', counts);
      };
      await Promise.all([loadInto(categories.body, sum('category')), loadInto(actions.body, sum('action'))]);
    })(),
    loadInto(
      errors.body,
      async () => {
        const answer = await getJson<ErrorGroups>(`/v1/analytics/errors${query({ startTime: range.startTime, endTime: range.endTime, limit: 20 })}`);
        if (answer.groups.length === 0) return h('p', { class: 'muted' }, 'No ERROR events in this period.');
        return table(
          'Error groups by fingerprint',
          ['Fingerprint', 'Category', 'Action', 'Message', 'Severity', 'Count', 'Users', 'First seen', 'Last seen', ''],
          answer.groups.map((group) => [
            h('code', { title: group.fingerprint }, group.fingerprint.slice(0, 12)),
            h('span', { class: 'text-cell' }, group.category),
            h('span', { class: 'text-cell' }, group.action),
            h('span', { class: 'text-cell' }, group.message ?? '—'),
            group.severity ?? '—',
            formatNumber(group.count),
            formatNumber(group.users),
            formatInstant(group.firstSeen, win.zone),
            formatInstant(group.lastSeen, win.zone),
            h('button', { type: 'button', class: 'link', onclick: () => navigate('explorer', new URLSearchParams({ event: group.sampleEventId, types: 'ERROR' })) }, 'Sample'),
          ]),
          { numeric: [5, 6] },
        );
      },
      'Error groups (GET /v1/analytics/errors)',
    ),
    loadInto(perf.body, async () => {
      const answer = await postJson<Aggregation>('/v1/analytics/aggregate', { ...range, granularity, eventTypes: ['PERFORMANCE'] });
      if (answer.data.length === 0) return h('p', { class: 'muted' }, 'No PERFORMANCE events in this period.');
      const x = answer.data.map((row) => Date.parse(row.period));
      const series = (['p50', 'p95', 'p99'] as const).map((key) => ({ label: key, values: answer.data.map((row) => row[key]) }));
      return chart({ kind: 'lines', title: 'PERFORMANCE durations: p50, p95 and p99 per bucket', x, span: [start, end], bucketMs: GRANULARITY_MS[granularity], zone: win.zone, series, format: formatMs });
    }),
    loadInto(lag.body, async () => {
      const types = await getJson<EventTypeSummary[]>(`/v1/analytics/event-types${query({ startTime: range.startTime, endTime: range.endTime })}`);
      if (types.length === 0) return h('p', { class: 'muted' }, 'No events in this period.');
      return table(
        'Ingestion lag (stored minus received) by event type',
        ['Type', 'Events', 'Users', 'Lag p50', 'Lag p95', 'Last seen'],
        types.map((type) => [type.type, formatNumber(type.count), formatNumber(type.uniqueUsers), formatMs(type.ingestionLagMs.p50), formatMs(type.ingestionLagMs.p95), formatInstant(type.lastSeen, win.zone)]),
        { numeric: [1, 2, 3, 4] },
      );
    }),
  ];
  const stopLive = livePanel(live.body, win.zone, panels);
  void Promise.all(panels).then(() => {
    if (!main.isConnected) return;
    // Since the navigation started: what bench:dashboard reports as the time to a complete render.
    document.body.dataset['overviewMs'] = String(Math.round(performance.now()));
    document.body.dataset['overview'] = 'complete';
  });
  return stopLive;
}

/**
 * The last hour per minute from the live counters, then stored events as the stream sends
 * them. Either part says "not available" on its own when the server has no such route.
 */
function livePanel(body: HTMLElement, zone: string, panels: Promise<void>[]): Cleanup {
  const counts = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('p', { class: 'muted', data: { stream: 'connecting' } }, 'Live stream: connecting…');
  const list = h('ol', { class: 'live-events', aria: { live: 'polite', label: 'Events as they are stored' } });
  fill(body, counts, status, list);
  panels.push(
    loadInto(
      counts,
      async () => {
        const answer = await getJson<LiveCounters>('/v1/counters/live?window=60m');
        const perMinute = new Map<number, number>();
        for (const row of answer.counts) perMinute.set(Date.parse(row.minute), (perMinute.get(Date.parse(row.minute)) ?? 0) + row.count);
        const total = [...perMinute.values()].reduce((sum, count) => sum + count, 0);
        const x = [...perMinute.keys()].sort((a, b) => a - b);
        return [h('p', {}, h('strong', { data: { liveTotal: '' } }, formatNumber(total)), ' events stored in the last 60 minutes'), ...(x.length > 0 ? [chart({ kind: 'stacked', title: 'Events per minute, last hour', x, bucketMs: GRANULARITY_MS.minute, zone, series: [{ label: 'events', values: x.map((minute) => perMinute.get(minute) ?? 0) }] })] : [])];
      },
      'Live counters (GET /v1/counters/live)',
    ),
  );
  const token = getToken();
  let socket: WebSocket | undefined;
  try {
    // The token as a subprotocol, never in the URL; a token no subprotocol can carry throws here.
    socket = new WebSocket(streamUrl(), streamSubprotocols(token ?? ''));
  } catch {
    fill(status, notAvailable('Live stream'));
    return () => undefined;
  }
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
    status.dataset['stream'] = 'open';
    fill(status, 'Live stream: connected; new events appear below.');
  });
  socket.addEventListener('message', (message) => {
    let frame: { type?: string; events?: StoredEvent[] };
    try {
      frame = JSON.parse(String(message.data)) as typeof frame;
    } catch {
      return;
    }
    if (frame.type !== 'events' || !Array.isArray(frame.events)) return;
    for (const event of frame.events) {
      list.prepend(h('li', {}, h('time', {}, formatInstant(event.timestamp, zone, true)), ' ', h('code', {}, event.type), ' ', h('span', { class: 'text-cell' }, `${event.category} / ${event.action}`)));
    }
    while (list.children.length > LIVE_EVENTS) list.lastElementChild?.remove();
  });
  socket.addEventListener('close', (close) => {
    status.dataset['stream'] = 'closed';
    fill(status, opened ? `Live stream closed (${close.code}${close.reason ? `: ${close.reason}` : ''}).` : notAvailable('Live stream (ws /v1/stream)'));
  });
  return () => socket?.close(1000, 'view closed');
}
