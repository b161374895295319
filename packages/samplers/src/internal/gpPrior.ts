// Prior transfer for GP-BO: the ranking-weighted Gaussian-process ensemble (RGPE) of Feurer,
// Letham & Bakshy 2018 ("Scalable Meta-Learning for Bayesian Optimization using Ranking-Weighted
// Gaussian Process Ensembles", ICML AutoML workshop; arXiv:1802.02219).
//
// Each earlier task has a GP of its own, fitted once on its trials (its values warped and
// standardized as the study's are); the study has its GP on its own trials. RGPE's model is their
// weighted sum, mean sum_i w_i mu_i(x) and variance sum_i w_i^2 sigma_i^2(x) (`ensemble`); the
// default is the study's GP on its residuals from the earlier tasks' weighted mean (`stacked`,
// below). The acquisition reads either as it reads a single GP, so that the earlier tasks shape
// every trial, not only the first few.
//
// A model's weight is the probability that it ranks the study's trials best: over S draws from
// each model's predictive distribution at the study's trials (the study's own model leave-one-out,
// so that it is not credited for fitting its data), the share of draws in which it misranks the
// fewest pairs (ties shared). The guard against negative transfer is the paper's: an earlier
// task whose median loss is above the 95th percentile of the study model's losses gets no weight.
// As the study's trials grow, a task whose landscape orders them wrongly loses its draws to the
// study's model, and its weight falls.
//
// Departures, said where they are made: the draws are from the marginal predictive distributions
// (the paper draws from the joint posterior: with the trials few and far apart, as in BO, the two
// differ little and the marginals cost O(n) instead of a Cholesky factor per task); the given
// similarity of each earlier task (in [0, 1]; the study's own model 1) multiplies its probability
// before the weights are normalized, so that a task known to be unrelated starts small; and while
// the study has fewer than 3 trials (no ranking to learn from), the weights are the similarities.
import type { Rng, Trial } from "@tunekit/core"
import * as Gp from "./gp.js"
import type * as PriorTasks from "./priorTask.js"
import type { Kind as KernelKind } from "./kernel.js"

/** An earlier task as the GP sampler takes it (`Gp.Options.prior`). */
export type PriorTask = PriorTasks.PriorTask

/** An earlier task's fitted GP over the study's encoding, and its best configs. */
export interface BaseModel {
  readonly name: string
  readonly similarity: number
  readonly post: Gp.Posterior
  /** Its best trials' internal values (the candidates' search starts around them too). */
  readonly tops: ReadonlyArray<Float64Array>
}

/** What the sampler gives this module of its encoding: rows of internal values, encoded. */
export interface Encoder {
  readonly dims: number
  readonly rowOf: (t: Trial.FrozenTrial) => Float64Array
  readonly isActive: (row: ArrayLike<number>) => boolean
  readonly encode: (row: ArrayLike<number>, out: Float64Array, at: number) => void
  /** The values to maximize, warped as the study's are; standardized here. */
  readonly warp: (raw: Float64Array) => void
}

/** Fits an earlier task's GP; undefined when fewer than 2 of its trials have the modelled parameters. */
export const fitBase = (kind: KernelKind, enc: Encoder, task: PriorTask, index: number, rng: Rng.Generator, additive: boolean): BaseModel | undefined => {
  const rows: Array<Float64Array> = []
  const raw: Array<number> = []
  for (const t of task.trials) {
    const v = t.values?.[0]
    if (v === undefined || !Number.isFinite(v)) continue
    const row = enc.rowOf(t)
    if (!enc.isActive(row)) continue
    rows.push(row)
    raw.push(task.direction === "maximize" ? v : -v)
  }
  const n = rows.length
  if (n < 2) return undefined
  const D = enc.dims
  const x = new Float64Array(n * D)
  rows.forEach((r, i) => enc.encode(r, x, i * D))
  const y = Float64Array.from(raw)
  enc.warp(y)
  standardizeInPlace(y)
  const data: Gp.Data = { x, y, n, dims: D }
  const hyper = Gp.fit(kind, data, rng, { restarts: 1, maxPoints: 100, additive })
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => y[b] - y[a])
  return {
    name: task.name ?? `prior ${index}`,
    similarity: Math.max(0, Math.min(1, task.similarity ?? 1)),
    post: Gp.posterior(kind, Gp.subset(data, 200, rng), hyper),
    tops: order.slice(0, 3).map((i) => rows[i])
  }
}

/** Values to zero mean and unit variance, in place. */
export const standardizeInPlace = (y: Float64Array): void => {
  const n = y.length
  let mean = 0
  for (let i = 0; i < n; i++) mean += y[i]
  mean /= n
  let sd = 0
  for (let i = 0; i < n; i++) sd += (y[i] - mean) ** 2
  sd = Math.sqrt(sd / n) || 1
  for (let i = 0; i < n; i++) y[i] = (y[i] - mean) / sd
}

/** The pairs of the study's trials misranked by values f (pairs of equal y skipped). */
const misranked = (f: ArrayLike<number>, y: ArrayLike<number>, n: number): number => {
  let loss = 0
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (y[i] === y[j]) continue
      if ((f[i] < f[j]) !== (y[i] < y[j])) loss++
    }
  }
  return loss
}

const quantile = (sorted: ArrayLike<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]

/**
 * The weights of the study's model and of each earlier task's (summing to 1). `target` is the
 * study's data and its leave-one-out predictions (undefined while it has no model).
 */
export const weights = (
  target: { readonly data: Gp.Data; readonly loo: { readonly mean: Float64Array; readonly variance: Float64Array } } | undefined,
  bases: ReadonlyArray<BaseModel>,
  rng: Rng.Generator,
  samples: number
): { readonly target: number; readonly bases: ReadonlyArray<number> } => {
  const normalize = (t: number, bs: ReadonlyArray<number>) => {
    const total = t + bs.reduce((a, b) => a + b, 0)
    return total > 0 ? { target: t / total, bases: bs.map((b) => b / total) } : { target: target === undefined ? 0 : 1, bases: bs.map(() => 0) }
  }
  if (target === undefined || target.data.n < 3) return normalize(target === undefined ? 0 : 1, bases.map((b) => b.similarity))
  const { data, loo } = target
  const { n, dims, x, y } = data
  // Each earlier task's predictive distribution at the study's trials.
  const means = bases.map(() => new Float64Array(n))
  const sds = bases.map(() => new Float64Array(n))
  bases.forEach((b, m) => {
    for (let i = 0; i < n; i++) {
      const p = b.post.predict(x.subarray(i * dims, (i + 1) * dims))
      means[m][i] = p.mean
      sds[m][i] = Math.sqrt(p.variance)
    }
  })
  const looSd = Float64Array.from(loo.variance, Math.sqrt)
  const M = bases.length
  const losses = Array.from({ length: M + 1 }, () => new Float64Array(samples))
  const f = new Float64Array(n)
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) f[i] = loo.mean[i] + looSd[i] * rng.normal()
    losses[M][s] = misranked(f, y, n)
    for (let m = 0; m < M; m++) {
      for (let i = 0; i < n; i++) f[i] = means[m][i] + sds[m][i] * rng.normal()
      losses[m][s] = misranked(f, y, n)
    }
  }
  // Weight dilution prevention (Feurer et al. 2018, section 3.2): a task whose median loss is
  // above the 95th percentile of the study model's losses is left out.
  const targetSorted = Float64Array.from(losses[M]).sort()
  const kept = bases.map((_, m) => quantile(Float64Array.from(losses[m]).sort(), 0.5) <= quantile(targetSorted, 0.95))
  const wins = new Float64Array(M + 1)
  for (let s = 0; s < samples; s++) {
    let least = losses[M][s]
    for (let m = 0; m < M; m++) if (kept[m] && losses[m][s] < least) least = losses[m][s]
    const winners: Array<number> = []
    for (let m = 0; m < M; m++) if (kept[m] && losses[m][s] === least) winners.push(m)
    if (losses[M][s] === least) winners.push(M)
    for (const w of winners) wins[w] += 1 / winners.length
  }
  return normalize(wins[M] / samples, bases.map((b, m) => (b.similarity * wins[m]) / samples))
}

/** The ensemble's prediction: the weighted sum of the models' means and of their variances times the squared weights. */
export const ensemble = (
  target: Gp.Posterior | undefined,
  bases: ReadonlyArray<BaseModel>,
  w: { readonly target: number; readonly bases: ReadonlyArray<number> }
): ((x: ArrayLike<number>) => { readonly mean: number; readonly variance: number }) => {
  const parts = [
    ...(target !== undefined && w.target > 0 ? [{ post: target, w: w.target }] : []),
    ...bases.flatMap((b, m) => (w.bases[m] > 0 ? [{ post: b.post, w: w.bases[m] }] : []))
  ]
  return (x) => {
    let mean = 0
    let variance = 0
    for (const p of parts) {
      const r = p.post.predict(x)
      mean += p.w * r.mean
      variance += p.w * p.w * r.variance
    }
    return { mean, variance: Math.max(variance, 1e-12) }
  }
}

/**
 * The stacked model: the study's GP fitted on its residuals from the earlier tasks' weighted mean
 * (the residual GP of Golovin et al. 2017, "Google Vizier: A Service for Black-Box Optimization",
 * KDD, section 3.3, with the earlier tasks merged into one prior mean by the ranking weights above
 * rather than stacked one on another). The prior mean enters scaled to the study's values (the
 * least-squares slope over its trials, in [0, 1]) times the earlier tasks' share of the weight,
 * so that it fades as they lose the ranking: with none left, this is the study's own GP. The
 * variance is the residual GP's, whose data are the study's trials alone: near them, the study's
 * own values decide, which the ensemble's mean (mostly the earlier tasks') did not let them.
 */
export const stacked = (
  data: Gp.Data,
  bases: ReadonlyArray<BaseModel>,
  w: { readonly target: number; readonly bases: ReadonlyArray<number> },
  fitResidual: (residual: Gp.Data) => Gp.Posterior
): ((x: ArrayLike<number>) => { readonly mean: number; readonly variance: number }) => {
  const { n, dims, x, y } = data
  const share = w.bases.reduce((a, b) => a + b, 0)
  const priorMean = (q: ArrayLike<number>) => {
    let m = 0
    bases.forEach((b, i) => {
      if (w.bases[i] > 0) m += w.bases[i] * b.post.predict(q).mean
    })
    return share > 0 ? m / share : 0
  }
  const at = Float64Array.from({ length: n }, (_, i) => priorMean(x.subarray(i * dims, (i + 1) * dims)))
  const meanOf = (v: ArrayLike<number>) => {
    let m = 0
    for (let i = 0; i < n; i++) m += v[i]
    return m / n
  }
  const my = meanOf(y)
  const mm = meanOf(at)
  let cov = 0
  let vm = 0
  for (let i = 0; i < n; i++) {
    cov += (at[i] - mm) * (y[i] - my)
    vm += (at[i] - mm) ** 2
  }
  // With two trials, or a flat prior mean over them, the slope is not identified: 1 (both
  // standardized). It is at most 1: the study's values are standardized over its own trials, which
  // crowd into the good region, and the slope over them (100 on Branin after 3 trials) would
  // magnify the prior mean far from them, where the earlier tasks' optimum then outvotes the
  // study's own trials.
  const slope = n >= 3 && vm > 1e-12 ? Math.min(1, Math.max(0, cov / vm)) : 1
  const scale = share * slope
  const offset = my - scale * mm
  const residual = Float64Array.from(y, (v, i) => v - scale * at[i] - offset)
  const post = fitResidual({ x, y: residual, n, dims })
  return (q) => {
    const r = post.predict(q)
    return { mean: (scale === 0 ? 0 : scale * priorMean(q)) + offset + r.mean, variance: r.variance }
  }
}

/**
 * The side of the trust region that confines the search around the study's best trial while the
 * earlier tasks lead (TuRBO's rule, Eriksson et al. 2019, "Scalable global optimization via local
 * Bayesian optimization", NeurIPS: doubled after `successes` improvements in a row, halved after
 * `failures` trials without one), replayed over the study's values in trial order, so that it
 * depends on the history alone. It starts small: the prior has put the first trial near the
 * earlier tasks' optimum, and related tasks' optima lie near one another, so the trials that
 * follow refine around it rather than visit the other good regions the prior shows (a shifted
 * copy of a multimodal landscape has all of them). Undefined once it has shrunk below `min`
 * (collapsed, TuRBO's restart: the search is global again).
 */
export const trustRegion = (
  values: ReadonlyArray<number>,
  options: { readonly initial: number; readonly max: number; readonly min: number; readonly successes: number; readonly failures: number }
): number | undefined => {
  let side = options.initial
  let best = values[0]
  let up = 0
  let down = 0
  for (let i = 1; i < values.length; i++) {
    if (values[i] > best + 1e-3 * Math.abs(best)) {
      up++
      down = 0
    } else {
      down++
      up = 0
    }
    best = Math.max(best, values[i])
    if (up >= options.successes) {
      side = Math.min(2 * side, options.max)
      up = 0
    } else if (down >= options.failures) {
      side /= 2
      down = 0
    }
    if (side < options.min) return undefined
  }
  return side
}

/**
 * Kernel hyperparameters for the study's GPs taken from the earlier tasks' (each the geometric
 * mean over their GPs): fitted on a handful of trials, the study's own length scales and amplitude
 * are guesses, which made its GP explore the corners of the trust region after the first trials,
 * while the earlier tasks' GPs were fitted on whole histories of related landscapes. A pre-trained
 * GP prior, as in HyperBO (Wang et al. 2024, "Pre-trained Gaussian processes for Bayesian
 * optimization", JMLR), which learns the kernel (and mean) from earlier tasks.
 */
export const pretrained = (bases: ReadonlyArray<BaseModel>): Gp.Hyper | undefined => {
  if (bases.length === 0) return undefined
  const geo = (f: (h: Gp.Hyper) => number) => Math.exp(bases.reduce((a, b) => a + Math.log(f(b.post.hyper)), 0) / bases.length)
  const dims = bases[0].post.hyper.lengthScales.length
  const additive = bases.every((b) => (b.post.hyper.additive ?? 0) > 0) ? geo((h) => h.additive!) : 0
  return {
    amplitude: geo((h) => h.amplitude),
    lengthScales: Float64Array.from({ length: dims }, (_, p) => geo((h) => h.lengthScales[p])),
    noise: geo((h) => h.noise),
    additive
  }
}
