// Latency figures for the benchmarks: percentiles of a sample in nanoseconds.
export interface Summary {
  count: number;
  p50us: number;
  p99us: number;
  maxUs: number;
}

export function summarise(ns: number[]): Summary {
  if (ns.length === 0) return { count: 0, p50us: NaN, p99us: NaN, maxUs: NaN };
  const sorted = Float64Array.from(ns).sort();
  const at = (q: number): number => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN) / 1000;
  return { count: ns.length, p50us: at(0.5), p99us: at(0.99), maxUs: (sorted[sorted.length - 1] ?? NaN) / 1000 };
}

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-';
