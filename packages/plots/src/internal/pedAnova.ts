// PED-ANOVA (Watanabe, Bansal & Hutter 2023, "PED-ANOVA: Efficiently Quantifying Hyperparameter
// Importance in Arbitrary Subspaces", IJCAI). The importance of a parameter in the γ-set (the best
// fraction γ of the trials) is the Pearson divergence between the marginal density of the
// parameter among the top γ' trials and among the γ-set (Theorem 1: the local variance of the
// marginal of the indicator of being in the top γ' equals (γ'/γ)² times that divergence).
// Densities are Parzen estimates over a grid of the parameter's domain, as in the paper's
// discretized form and Optuna's PedAnovaImportanceEvaluator (50 grid points, Scott's bandwidth,
// a uniform prior of weight 1).

/** A parameter's values as positions on a grid of `size` points (a categorical: one point per choice). */
export interface Gridded {
  readonly size: number
  readonly categorical: boolean
  /** Each trial's grid index, in the order of the trials. */
  readonly index: ReadonlyArray<number>
}

const PRIOR_WEIGHT = 1

/**
 * The Parzen estimate, as probabilities over the grid, of the trials `rows`: a Gaussian kernel at
 * each trial's grid point (none for a categorical), truncated to the grid, with Scott's bandwidth
 * (1.059 min(σ, IQR/1.34) n^(-1/5), Silverman's robust form, at least 0.5/1.64 of a grid step so
 * that a kernel does not collapse onto one point), mixed with a uniform prior.
 */
export const density = (g: Gridded, rows: ReadonlyArray<number>): Float64Array => {
  const counts = new Float64Array(g.size)
  for (const r of rows) counts[g.index[r]]++
  const n = rows.length
  const out = new Float64Array(g.size).fill(PRIOR_WEIGHT / g.size)
  if (g.categorical || g.size === 1) {
    for (let i = 0; i < g.size; i++) out[i] += counts[i]
  } else {
    const xs = rows.map((r) => g.index[r]).sort((a, b) => a - b)
    const m = xs.reduce((a, b) => a + b, 0) / n
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, n - 1))
    const iqr = xs[Math.min(n - 1, Math.floor((3 * n) / 4))] - xs[Math.floor(n / 4)]
    const spread = iqr > 0 ? Math.min(sd, iqr / 1.34) : sd
    const h = Math.max(1.059 * spread * n ** -0.2, 0.5 / 1.64)
    const kernel = new Float64Array(g.size)
    for (let c = 0; c < g.size; c++) {
      if (counts[c] === 0) continue
      let z = 0
      for (let i = 0; i < g.size; i++) z += kernel[i] = Math.exp(-0.5 * ((i - c) / h) ** 2)
      for (let i = 0; i < g.size; i++) out[i] += (counts[c] * kernel[i]) / z
    }
  }
  const total = n + PRIOR_WEIGHT
  for (let i = 0; i < g.size; i++) out[i] /= total
  return out
}

/** The Pearson divergence of p from q over the grid: Σ q (p/q - 1)². */
export const pearson = (p: Float64Array, q: Float64Array): number => {
  let d = 0
  for (let i = 0; i < p.length; i++) d += q[i] * (p[i] / q[i] - 1) ** 2
  return d
}

/**
 * The importance of each parameter: (γ'/γ)² times the Pearson divergence between the top rows'
 * density and the baseline's (`local`: all rows, the γ-set; otherwise the uniform density over the
 * domain, the paper's global importance, γ = 1).
 */
export const importances = (grids: ReadonlyArray<Gridded>, top: ReadonlyArray<number>, all: ReadonlyArray<number>, local: boolean): Array<number> => {
  const ratio = top.length / all.length
  return grids.map((g) => {
    const p = density(g, top)
    const q = local ? density(g, all) : new Float64Array(g.size).fill(1 / g.size)
    return ratio * ratio * pearson(p, q)
  })
}
