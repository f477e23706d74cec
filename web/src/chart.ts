import uPlot from 'uplot';
import { xRange } from './chart-range.js';
import { h } from './dom.js';
import { formatInstant, formatNumber } from './time.js';

/** Okabe-Ito: told apart by readers with any of the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#8a7a00', '#555555'];

export interface Series {
  label: string;
  values: (number | null)[];
}

interface ChartOptions {
  /** Bucket starts, in ms. */
  x: number[];
  series: Series[];
  zone: string;
  /** What a value means, for the axis and the legend. */
  format?: (value: number) => string;
  /** Stacked bars (counts) or lines (percentiles). */
  kind: 'stacked' | 'lines';
  title: string;
  /**
   * The period the x axis shows, in ms. Without it uPlot spans the buckets that have events,
   * and a single bucket got an axis of years around it.
   */
  span?: [start: number, end: number];
  /** A bucket's width in ms: a bar stands from its bucket's start for this long, the last one too. */
  bucketMs: number;
}

/** Keeps the chart as wide as its box (1280 px and 390 px screens alike). */
function fitWidth(chart: uPlot, box: HTMLElement): void {
  const observer = new ResizeObserver(() => {
    const width = Math.max(240, Math.floor(box.clientWidth));
    if (width !== chart.width) chart.setSize({ width, height: chart.height });
  });
  observer.observe(box);
}

function markSpan(box: HTMLElement, scale: uPlot.Scale | undefined): void {
  if (scale?.min === undefined || scale.max === undefined) return;
  box.dataset['xFrom'] = new Date(scale.min * 1000).toISOString();
  box.dataset['xTo'] = new Date(scale.max * 1000).toISOString();
}

/**
 * A uPlot chart in a box, with a text summary beside the canvas for screen readers. Stacked
 * series are drawn as cumulative bars, the top one first, each over the previous; the legend
 * shows each series' own value.
 */
export function chart(options: ChartOptions): HTMLElement {
  const box = h('div', { class: 'chart', role: 'img', aria: { label: options.title } });
  const format = options.format ?? formatNumber;
  const x = options.x.map((ms) => ms / 1000);
  let data: (number | null)[][];
  let raw: (number | null)[][] = options.series.map((series) => series.values);
  if (options.kind === 'stacked') {
    const cumulative: number[][] = [];
    options.series.forEach((series, index) => {
      const below = cumulative[index - 1];
      cumulative.push(series.values.map((value, i) => (value ?? 0) + (below?.[i] ?? 0)));
    });
    data = [...cumulative].reverse();
    raw = [...raw].reverse();
  } else {
    data = raw;
  }
  const labels = options.kind === 'stacked' ? [...options.series].reverse() : options.series;
  const count = options.series.length;
  // Left-aligned: a bar stands for the bucket that starts at its x.
  const bars = uPlot.paths.bars?.({ size: [0.8, 48], gap: 1, align: 1 });
  const plot = new uPlot(
    {
      width: 600,
      height: 240,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), options.zone),
      legend: { live: true },
      // The instants the x axis spans, as drawn, for the browser tests (the axis itself is pixels).
      hooks: { setScale: [(u, key) => key === 'x' && markSpan(box, u.scales['x'])] },
      cursor: { points: { show: options.kind === 'lines' } },
      scales: { x: { time: true, range: xRange(x, options.bucketMs / 1000, options.span) } },
      axes: [
        { stroke: '#333', grid: { stroke: '#e3e3e3' } },
        { stroke: '#333', grid: { stroke: '#e3e3e3' }, size: 64, values: (_u, values) => values.map((value) => format(value)) },
      ],
      series: [
        { label: 'Time', value: (_u, seconds) => (seconds === null ? '—' : formatInstant(seconds * 1000, options.zone)) },
        ...labels.map((series, index) => {
          const color = PALETTE[(options.kind === 'stacked' ? count - 1 - index : index) % PALETTE.length] as string;
          return {
            label: series.label,
            stroke: color,
            width: options.kind === 'lines' ? 2 : 0,
            ...(options.kind === 'stacked' ? { fill: color, paths: bars, points: { show: false } } : {}),
            spanGaps: false,
            value: (_u: uPlot, _value: number | null, _series: number, at: number | null) => {
              const own = at === null ? null : raw[index]?.[at];
              return own === null || own === undefined ? '—' : format(own);
            },
          };
        }),
      ],
    },
    [x, ...data] as uPlot.AlignedData,
    box,
  );
  requestAnimationFrame(() => fitWidth(plot, box));
  return box;
}
