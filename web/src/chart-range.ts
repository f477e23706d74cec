/**
 * The x scale's range, in seconds: uPlot asks with the data's own extent when it ranges the
 * scale itself (at first, and on the double click that ends a zoom), and with the selection
 * when the user drags to zoom. The former becomes the span asked for, widened to the buckets
 * that start before it (a local midnight) and to the end of the bucket the period ends in,
 * whether or not that bucket has events yet, so that its bar is not cut and every panel of a
 * period ends at the same place; the latter is kept.
 */
export function xRange(x: number[], bucketSeconds: number, span: [number, number] | undefined): (chart: unknown, min: number, max: number) => [number, number] {
  const first = x[0];
  const last = x.at(-1);
  return (_chart, min, max) => {
    // A single bucket is ranged by uPlot as that instant plus a day.
    const ownExtent = min === first && (max === last || first === last);
    if (first === undefined || last === undefined || !ownExtent) return [min, max];
    const [start, end] = span ? [span[0] / 1000, span[1] / 1000] : [first, last];
    const buckets = Math.max(1, Math.ceil((end - last) / bucketSeconds));
    return [Math.min(start, first), last + buckets * bucketSeconds];
  };
}
