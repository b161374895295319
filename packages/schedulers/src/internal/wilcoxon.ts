// The Wilcoxon signed-rank test (Wilcoxon 1945), written out here: zero differences are split
// between the signs ("zsplit", Pratt-like, as Optuna's WilcoxonPruner asks scipy for), ties get
// average ranks. The p-value is exact (the permutation distribution of the signs, counted over
// doubled ranks so that average ranks stay integers) up to 50 non-zero differences, and from the
// normal approximation above that (no continuity correction, variance with the tie correction).

export type Alternative = "greater" | "less" | "two-sided"

export interface Result {
  /** W+: the sum of the ranks of the positive differences (zeros count half). */
  readonly statistic: number
  readonly pvalue: number
  readonly method: "exact" | "normal"
}

/** Average ranks (1-based) of the absolute values. */
export const ranks = (xs: ReadonlyArray<number>): Array<number> => {
  const idx = xs.map((x, i) => [Math.abs(x), i] as const).sort((a, b) => a[0] - b[0])
  const out = new Array<number>(xs.length)
  for (let i = 0; i < idx.length;) {
    let j = i
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++
    const r = (i + j + 2) / 2
    for (let k = i; k <= j; k++) out[idx[k][1]] = r
    i = j + 1
  }
  return out
}

/** The standard normal upper tail, P(Z > z) (erfc by Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export const normalSf = (z: number): number => {
  const x = z / Math.SQRT2
  const t = 1 / (1 + 0.5 * Math.abs(x))
  const y = t * Math.exp(
    -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
      t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
  )
  const erfc = x >= 0 ? y : 2 - y
  return erfc / 2
}

const EXACT_MAX = 50

/**
 * The signed-rank test of the differences `d` against a median of zero. "greater": the
 * differences tend to be positive. `auto` is exact up to 50 non-zero differences.
 */
export const signedRank = (
  d: ReadonlyArray<number>,
  alternative: Alternative = "two-sided",
  method: "auto" | "exact" | "normal" = "auto"
): Result => {
  const r = ranks(d)
  let zeroPart = 0
  const nonzero: Array<number> = []
  let observed = 0
  for (let i = 0; i < d.length; i++) {
    if (d[i] === 0) zeroPart += r[i] / 2
    else {
      nonzero.push(r[i])
      if (d[i] > 0) observed += r[i]
    }
  }
  const statistic = observed + zeroPart
  if (nonzero.length === 0) return { statistic, pvalue: 1, method: "exact" }
  if (method === "exact" || (method === "auto" && nonzero.length <= EXACT_MAX)) {
    // counts[s]: how many sign patterns give a doubled positive-rank sum of s.
    const doubled = nonzero.map((x) => Math.round(2 * x))
    const total = doubled.reduce((a, b) => a + b, 0)
    let counts = new Float64Array(total + 1)
    counts[0] = 1
    let reach = 0
    for (const x of doubled) {
      const next = new Float64Array(total + 1)
      for (let s = 0; s <= reach; s++) {
        if (counts[s] === 0) continue
        next[s] += counts[s]
        next[s + x] += counts[s]
      }
      reach += x
      counts = next
    }
    const all = 2 ** nonzero.length
    const w = Math.round(2 * observed)
    let ge = 0
    let le = 0
    for (let s = 0; s <= total; s++) {
      if (s >= w) ge += counts[s]
      if (s <= w) le += counts[s]
    }
    const pg = ge / all
    const pl = le / all
    const p = alternative === "greater" ? pg : alternative === "less" ? pl : Math.min(1, 2 * Math.min(pg, pl))
    return { statistic, pvalue: p, method: "exact" }
  }
  const mean = nonzero.reduce((a, b) => a + b, 0) / 2
  const sd = Math.sqrt(nonzero.reduce((a, b) => a + b * b, 0) / 4)
  const z = (observed - mean) / sd
  const pg = normalSf(z)
  const pl = normalSf(-z)
  const p = alternative === "greater" ? pg : alternative === "less" ? pl : Math.min(1, 2 * Math.min(pg, pl))
  return { statistic, pvalue: p, method: "normal" }
}
