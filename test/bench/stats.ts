/**
 * Summaries of repeated measurements: the median and the interquartile range (p25–p75). On a
 * shared machine one round can be far off; the median ignores it and the IQR shows how far the
 * rounds agree, which a mean or a best-of hides.
 */

/** A median with its interquartile range over `n` values. */
export interface Summary {
  readonly median: number
  readonly p25: number
  readonly p75: number
  readonly n: number
}

/**
 * The q-quantile by linear interpolation between closest ranks (Hyndman and Fan's type 7, the
 * default of R and NumPy), so that 3 rounds still give a p25 and a p75 between their values.
 */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * q
  const lower = sorted[Math.floor(position)] ?? Number.NaN
  const upper = sorted[Math.ceil(position)] ?? Number.NaN
  return lower + (upper - lower) * (position - Math.floor(position))
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)

export function summarize(values: readonly number[]): Summary {
  return {
    median: median(values),
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
    n: values.filter((v) => Number.isFinite(v)).length,
  }
}

/**
 * Ratios taken within each round: `numerators[i] / denominators[i]`. A ratio is always formed
 * from two figures measured side by side, never from two medians of different minutes.
 */
export function perRound(numerators: readonly number[], denominators: readonly number[]): number[] {
  return numerators.map((n, i) => n / (denominators[i] ?? Number.NaN))
}
