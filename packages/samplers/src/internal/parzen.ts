// Parzen estimators for TPE (Bergstra et al. 2011, "Algorithms for Hyper-Parameter Optimization";
// the details follow Watanabe 2023, "Tree-structured Parzen Estimator: Understanding Its Algorithm
// Components", and Optuna's _ParzenEstimator): a weighted mixture with one kernel per observation
// plus an optional prior kernel. Numeric parameters get truncated-normal kernels (in log space for
// log parameters; on a grid, the kernel's mass over the grid cell); categoricals get a
// smoothed one-hot distribution per kernel. A multivariate estimator shares each kernel across the
// parameters (a product of one-dimensional kernels), which is what lets TPE model interactions.
import type { Distribution, Rng } from "@tunekit/core"
import { Distribution as D } from "@tunekit/core"
import { logGaussMass, truncnormPpf } from "./parzenTruncnorm.js"

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI)
const EPS = 1e-12

/** How one parameter is modelled: its kernel type and its bounds in the transformed space. */
export interface ParamSpec {
  readonly name: string
  readonly distribution: Distribution.Distribution
  readonly kind: "continuous" | "discrete" | "categorical"
  /** Transformed bounds, widened by half a step for grids (so that each grid value owns a cell). */
  readonly low: number
  readonly high: number
  /** The grid step in the transformed space (discrete only). */
  readonly step: number
  readonly nChoices: number
}

/** The kernel model of a distribution. */
export const specOf = (name: string, d: Distribution.Distribution): ParamSpec => {
  if (d._tag === "Categorical") return { name, distribution: d, kind: "categorical", low: 0, high: d.choices.length - 1, step: 1, nChoices: d.choices.length }
  if (d.log) {
    // A log int is modelled continuously in log space over its widened range, then rounded.
    const pad = d._tag === "Int" ? d.step / 2 : 0
    return { name, distribution: d, kind: "continuous", low: Math.log(d.low - pad), high: Math.log(d.high + pad), step: 0, nChoices: 0 }
  }
  if (d.step !== undefined) {
    return { name, distribution: d, kind: "discrete", low: d.low - d.step / 2, high: d.high + d.step / 2, step: d.step, nChoices: 0 }
  }
  return { name, distribution: d, kind: "continuous", low: d.low, high: d.high, step: 0, nChoices: 0 }
}

/** An internal value in the kernel space. */
export const transform = (spec: ParamSpec, internal: number): number => {
  const d = spec.distribution
  return d._tag !== "Categorical" && d.log ? Math.log(internal) : internal
}

/** A kernel-space value back to an internal value on the distribution. */
export const untransform = (spec: ParamSpec, t: number): number => {
  const d = spec.distribution
  return D.snap(d, d._tag !== "Categorical" && d.log ? Math.exp(t) : t)
}

/** The estimator's settings. */
export interface ParzenOptions {
  readonly considerPrior: boolean
  readonly priorWeight: number
  readonly considerMagicClip: boolean
  readonly considerEndpoints: boolean
  readonly multivariate: boolean
  /** The multivariate bandwidth's scale (0.2 in Optuna). */
  readonly bandwidth: number
  /**
   * Multivariate only, 0 to turn off: scale each bandwidth by `spread` standard deviations of the
   * observations instead of the range, kept between `spreadFloor` of the range and the range.
   */
  readonly spread: number
  readonly spreadFloor: number
  /** The count of kernels the magic clip divides the range by (default: this estimator's own). */
  readonly clipCount?: number
}

interface NumericKernels {
  readonly kind: "continuous" | "discrete"
  readonly spec: ParamSpec
  readonly mus: Float64Array
  readonly sigmas: Float64Array
  /** log of each kernel's mass on [low, high]. */
  readonly logMass: Float64Array
}

interface CategoricalKernels {
  readonly kind: "categorical"
  readonly spec: ParamSpec
  /** Row k: log probabilities of kernel k over the choices. */
  readonly logP: Float64Array
  readonly probs: Float64Array
}

/** A mixture of product kernels over one or more parameters. */
export interface Estimator {
  readonly nKernels: number
  readonly weights: Float64Array
  readonly logWeights: Float64Array
  readonly dims: ReadonlyArray<NumericKernels | CategoricalKernels>
}

/**
 * Builds an estimator from observations (one array per parameter, in the transformed space) and
 * their weights (older trials may weigh less).
 */
export const build = (
  specs: ReadonlyArray<ParamSpec>,
  observations: ReadonlyArray<ArrayLike<number>>,
  obsWeights: ArrayLike<number>,
  options: ParzenOptions
): Estimator => {
  const n = obsWeights.length
  const prior = options.considerPrior || n === 0
  const K = n + (prior ? 1 : 0)
  const weights = new Float64Array(K)
  for (let i = 0; i < n; i++) weights[i] = obsWeights[i]
  if (prior) weights[n] = n === 0 ? 1 : options.priorWeight
  let total = 0
  for (let i = 0; i < K; i++) total += weights[i]
  const logWeights = new Float64Array(K)
  for (let i = 0; i < K; i++) {
    weights[i] /= total
    logWeights[i] = Math.log(weights[i])
  }
  const dims = specs.map((spec, j) =>
    spec.kind === "categorical"
      ? categoricalKernels(spec, observations[j], n, prior, options.priorWeight)
      : numericKernels(spec, observations[j], n, prior, specs.length, options)
  )
  return { nKernels: K, weights, logWeights, dims }
}

const categoricalKernels = (spec: ParamSpec, obs: ArrayLike<number>, n: number, prior: boolean, priorWeight: number): CategoricalKernels => {
  const K = n + (prior ? 1 : 0)
  const C = spec.nChoices
  const probs = new Float64Array(K * C)
  const logP = new Float64Array(K * C)
  // Each observation's kernel puts weight 1 on its choice plus the prior's weight spread evenly.
  const fill = priorWeight / K
  for (let k = 0; k < K; k++) {
    let sum = 0
    for (let c = 0; c < C; c++) {
      const p = fill + (k < n && obs[k] === c ? 1 : 0)
      probs[k * C + c] = p
      sum += p
    }
    for (let c = 0; c < C; c++) {
      probs[k * C + c] /= sum
      logP[k * C + c] = Math.log(probs[k * C + c])
    }
  }
  return { kind: "categorical", spec, probs, logP }
}

const numericKernels = (
  spec: ParamSpec,
  obs: ArrayLike<number>,
  n: number,
  prior: boolean,
  nParams: number,
  options: ParzenOptions
): NumericKernels => {
  const { low, high } = spec
  const range = high - low
  const priorMu = 0.5 * (low + high)
  const K = n + (prior ? 1 : 0)
  const mus = new Float64Array(K)
  const sigmas = new Float64Array(K)
  for (let i = 0; i < n; i++) mus[i] = obs[i]
  if (prior) mus[n] = priorMu

  if (options.multivariate) {
    // Scott's rule scaled to the range: one bandwidth for all kernels (Watanabe 2023, sec. 3.3).
    let scale = range
    if (options.spread > 0 && n >= 2) {
      // Where the good trials have gathered, their kernels narrow with them (tunekit's
      // refinement, tuned on the benchmark: it sharpens the end of a run on smooth problems).
      let m = 0
      for (let i = 0; i < n; i++) m += obs[i]
      m /= n
      let v = 0
      for (let i = 0; i < n; i++) v += (obs[i] - m) ** 2
      scale = Math.min(range, Math.max(options.spreadFloor * range, options.spread * Math.sqrt(v / (n - 1))))
    }
    const s = options.bandwidth * Math.pow(Math.max(n, 1), -1 / (nParams + 4)) * scale
    sigmas.fill(s)
  } else {
    // Univariate: each kernel's bandwidth is the larger gap to its sorted neighbours (the prior
    // counts as a neighbour; the bounds too when endpoints are considered).
    // Each kernel's rank by a native sort of the values and a binary search; equal values take
    // consecutive ranks in kernel order (what a stable sort of the indices would give).
    const withEnds = new Float64Array(K + 2)
    withEnds.set(mus, 1)
    withEnds.subarray(1, K + 1).sort()
    withEnds[0] = low
    withEnds[K + 1] = high
    const taken = new Uint8Array(K)
    const rankOf = new Int32Array(K)
    for (let k = 0; k < K; k++) {
      let lo = 0
      let hi = K
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (withEnds[mid + 1] < mus[k]) lo = mid + 1
        else hi = mid
      }
      while (taken[lo]) lo++
      taken[lo] = 1
      rankOf[k] = lo
    }
    const ss = new Float64Array(K)
    for (let i = 0; i < K; i++) ss[i] = Math.max(withEnds[i + 1] - withEnds[i], withEnds[i + 2] - withEnds[i + 1])
    if (!options.considerEndpoints && K >= 2) {
      ss[0] = withEnds[2] - withEnds[1]
      ss[K - 1] = withEnds[K] - withEnds[K - 1]
    }
    for (let k = 0; k < K; k++) sigmas[k] = ss[rankOf[k]]
  }
  // The "magic clip" (Bergstra et al.'s hyperopt): no kernel narrower than range / min(100, K + 1).
  const maxSigma = range
  const minSigma = options.considerMagicClip ? range / Math.min(100, 1 + (options.clipCount ?? K)) : EPS
  for (let i = 0; i < n; i++) sigmas[i] = Math.min(maxSigma, Math.max(minSigma, sigmas[i]))
  if (prior) sigmas[n] = range

  const logMass = new Float64Array(K)
  for (let k = 0; k < K; k++) logMass[k] = logGaussMass((low - mus[k]) / sigmas[k], (high - mus[k]) / sigmas[k])
  return { kind: spec.kind as "continuous" | "discrete", spec, mus, sigmas, logMass }
}

/** Picks a kernel index by weight. */
const pickKernel = (est: Estimator, u: number): number => {
  let acc = 0
  for (let k = 0; k < est.nKernels - 1; k++) {
    acc += est.weights[k]
    if (u < acc) return k
  }
  return est.nKernels - 1
}

/** Snaps a kernel-space value onto a discrete parameter's grid. */
const snapGrid = (spec: ParamSpec, t: number): number => {
  const lo = spec.low + spec.step / 2
  const hi = spec.high - spec.step / 2
  const k = Math.round((Math.min(hi, Math.max(lo, t)) - lo) / spec.step)
  return lo + k * spec.step
}

/** Draws `size` points from the mixture: one array per parameter, in the kernel space. */
export const sample = (est: Estimator, rng: Rng.Generator, size: number): Array<Float64Array> => {
  const out = est.dims.map(() => new Float64Array(size))
  for (let i = 0; i < size; i++) {
    const k = pickKernel(est, rng.next())
    est.dims.forEach((dim, j) => {
      const u = rng.next()
      if (dim.kind === "categorical") {
        const C = dim.spec.nChoices
        let acc = 0
        let c = 0
        for (; c < C - 1; c++) {
          acc += dim.probs[k * C + c]
          if (u < acc) break
        }
        out[j][i] = c
      } else {
        const mu = dim.mus[k]
        const s = dim.sigmas[k]
        const { low, high } = dim.spec
        const x = mu + s * truncnormPpf(u, (low - mu) / s, (high - mu) / s)
        out[j][i] = dim.kind === "discrete" ? snapGrid(dim.spec, x) : Math.min(high, Math.max(low, x))
      }
    })
  }
  return out
}

/** The log density (log mass on grids and categoricals) of each point under the mixture. */
export const logPdf = (est: Estimator, points: ReadonlyArray<ArrayLike<number>>, size: number): Float64Array => {
  const K = est.nKernels
  if (est.dims.every((d) => d.kind === "continuous")) return logPdfContinuous(est, points, size)
  const acc = new Float64Array(K * size)
  for (let k = 0; k < K; k++) acc.fill(est.logWeights[k], k * size, (k + 1) * size)
  for (let j = 0; j < est.dims.length; j++) {
    const dim = est.dims[j]
    const xs = points[j]
    if (dim.kind === "categorical") {
      const C = dim.spec.nChoices
      const logP = dim.logP
      for (let k = 0; k < K; k++) {
        const row = k * C
        const base = k * size
        for (let i = 0; i < size; i++) acc[base + i] += logP[row + xs[i]]
      }
    } else if (dim.kind === "continuous") {
      const { mus, sigmas, logMass } = dim
      for (let k = 0; k < K; k++) {
        const mu = mus[k]
        const inv = 1 / sigmas[k]
        const c = -Math.log(sigmas[k]) - LOG_SQRT_2PI - logMass[k]
        const base = k * size
        for (let i = 0; i < size; i++) {
          const z = (xs[i] - mu) * inv
          acc[base + i] += c - 0.5 * z * z
        }
      }
    } else {
      const h = dim.spec.step / 2
      const { mus, sigmas, logMass } = dim
      for (let k = 0; k < K; k++) {
        const mu = mus[k]
        const s = sigmas[k]
        const base = k * size
        for (let i = 0; i < size; i++) acc[base + i] += logGaussMass((xs[i] - h - mu) / s, (xs[i] + h - mu) / s) - logMass[k]
      }
    }
  }
  // log-sum-exp over kernels, row by row (contiguous): the maxima first, then the sums.
  const max = new Float64Array(size).fill(-Infinity)
  for (let k = 0; k < K; k++) {
    const base = k * size
    for (let i = 0; i < size; i++) if (acc[base + i] > max[i]) max[i] = acc[base + i]
  }
  const sum = new Float64Array(size)
  for (let k = 0; k < K; k++) {
    const base = k * size
    for (let i = 0; i < size; i++) {
      // Kernels more than 40 nats below the largest add under 1e-17 of it: skip their exp.
      const v = acc[base + i] - max[i]
      if (v > -40) sum[i] += Math.exp(v)
    }
  }
  const out = new Float64Array(size)
  for (let i = 0; i < size; i++) out[i] = max[i] === -Infinity ? -Infinity : max[i] + Math.log(sum[i])
  return out
}

// The common all-continuous case, fused: one pass over kernels with an online log-sum-exp (the
// running maximum rarely changes, so rescaling exps are rare), no kernel-by-point matrix.
const logPdfContinuous = (est: Estimator, points: ReadonlyArray<ArrayLike<number>>, size: number): Float64Array => {
  const K = est.nKernels
  const D = est.dims.length
  const dims = est.dims as ReadonlyArray<NumericKernels>
  // Per kernel and dimension: mean, 1/sigma, and the log normalizing constant, interleaved.
  const mu = new Float64Array(K * D)
  const inv = new Float64Array(K * D)
  let consts = Float64Array.from(est.logWeights)
  for (let j = 0; j < D; j++) {
    const d = dims[j]
    for (let k = 0; k < K; k++) {
      mu[k * D + j] = d.mus[k]
      inv[k * D + j] = 1 / d.sigmas[k]
      consts[k] += -Math.log(d.sigmas[k]) - LOG_SQRT_2PI - d.logMass[k]
    }
  }
  const xs = new Float64Array(size * D)
  for (let i = 0; i < size; i++) for (let j = 0; j < D; j++) xs[i * D + j] = points[j][i]
  const max = new Float64Array(size).fill(-Infinity)
  const sum = new Float64Array(size)
  for (let k = 0; k < K; k++) {
    const kb = k * D
    const c = consts[k]
    for (let i = 0; i < size; i++) {
      const ib = i * D
      let q = 0
      for (let j = 0; j < D; j++) {
        const z = (xs[ib + j] - mu[kb + j]) * inv[kb + j]
        q += z * z
      }
      const v = c - 0.5 * q
      const m = max[i]
      if (v > m) {
        sum[i] = (m === -Infinity ? 0 : sum[i] * Math.exp(m - v)) + 1
        max[i] = v
      } else if (v - m > -40) sum[i] += Math.exp(v - m)
    }
  }
  consts = new Float64Array(size)
  for (let i = 0; i < size; i++) consts[i] = max[i] === -Infinity ? -Infinity : max[i] + Math.log(sum[i])
  return consts
}
