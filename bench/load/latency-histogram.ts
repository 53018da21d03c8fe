import * as hdr from 'hdr-histogram-js';

/** Latency percentiles of one load step, ms. */
export type LatencySummary = { count: number; p50: number; p90: number; p99: number; max: number; mean: number };

export type LatencyHistogram = {
  /** Records one latency in ms (kept at µs resolution, 3 significant digits). */
  record(ms: number): void;
  summary(): LatencySummary;
};

// 1 µs … 10 min: a step's worst latency stays inside the range even when the server stalls for a whole step.
const LOWEST_US = 1;
const HIGHEST_US = 600_000_000;

/** An HdrHistogram (hdr-histogram-js, pure JS build) that takes ms and reports ms. */
export function createLatencyHistogram(): LatencyHistogram {
  const histogram = hdr.build({ bitBucketSize: 64, lowestDiscernibleValue: LOWEST_US, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  const toMs = (us: number) => Math.round(us) / 1000;
  return {
    record(ms) {
      histogram.recordValue(Math.min(HIGHEST_US, Math.max(LOWEST_US, Math.round(ms * 1000))));
    },
    summary() {
      if (histogram.totalCount === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
      return {
        count: histogram.totalCount,
        p50: toMs(histogram.getValueAtPercentile(50)),
        p90: toMs(histogram.getValueAtPercentile(90)),
        p99: toMs(histogram.getValueAtPercentile(99)),
        max: toMs(histogram.maxValue),
        mean: toMs(histogram.mean),
      };
    },
  };
}
