/** The figures `npm run soak` reports: latency percentiles and the RSS trend. */

/** The value below which `p` percent of `values` fall (nearest rank); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A least-squares line through samples, with how far the samples stray from it. */
export interface Trend {
  /** Growth per minute, in the samples' unit. */
  slopePerMinute: number;
  /** Standard error of that slope. */
  slopeStdError: number;
  /** Standard deviation of the samples around the line: the noise. */
  residualSd: number;
  mean: number;
  /** Minutes the samples span. */
  minutes: number;
  samples: number;
}

/** Fits y = a + b·t over `samples` (t in ms, any y unit). */
export function trend(samples: Array<{ t: number; y: number }>): Trend {
  const n = samples.length;
  const ts = samples.map((s) => s.t / 60_000);
  const ys = samples.map((s) => s.y);
  const meanT = ts.reduce((a, b) => a + b, 0) / n;
  const mean = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (ts[i] - meanT) ** 2;
    sxy += (ts[i] - meanT) * (ys[i] - mean);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - (mean + slope * (ts[i] - meanT))) ** 2;
  const residualSd = n > 2 ? Math.sqrt(sse / (n - 2)) : 0;
  return {
    slopePerMinute: slope,
    slopeStdError: sxx > 0 ? residualSd / Math.sqrt(sxx) : 0,
    residualSd,
    mean,
    minutes: n > 1 ? ts[n - 1] - ts[0] : 0,
    samples: n,
  };
}

/**
 * True when the growth the line predicts over its span stays within the noise: at most twice the
 * samples' own spread around the line, or 2% of the mean, whichever is larger (a very flat RSS
 * would otherwise make any drift of a few pages count).
 */
export function withinNoise(fit: Trend): boolean {
  const growth = fit.slopePerMinute * fit.minutes;
  return growth <= Math.max(2 * fit.residualSd, 0.02 * fit.mean);
}
