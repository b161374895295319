// A Gaussian-process regression model (Rasmussen & Williams 2006, algorithm 2.1) with an ARD kernel,
// optionally plus a first-order additive component on the same length scales (Duvenaud, Nickisch &
// Rasmussen, "Additive Gaussian processes", NeurIPS 2011, with orders 1 and d). The hyperparameters
// are fitted by maximizing the log marginal likelihood plus a weak log prior (type-II MAP), with
// the analytic gradient (R&W eq. 5.9), in log space, by projected L-BFGS from several starts. The
// prior is Optuna's (optuna/_gp/prior.py): it keeps length scales near the unit cube's scale and the
// noise small when the data do not ask for more. With the additive component, one more fit pins
// the full kernel at its smallest amplitude, and the two compete by leave-one-out likelihood.
import type { Rng } from "@tunekit/core"
import * as Kernel from "./kernel.js"
import * as Linalg from "./linalg.js"
import { minimize } from "./gpOptimizer.js"

/** The hyperparameters, all positive but `additive`, which is 0 when the kernel has no additive part. */
export interface Hyper {
  readonly amplitude: number
  readonly lengthScales: Float64Array
  readonly noise: number
  /**
   * The variance of the first-order additive component, (additive / dims) sum_p g(r_p): it lets
   * the model learn each parameter's effect from every trial, which pays where the objective is
   * close to a sum of one-parameter effects, as hyperparameter objectives often are.
   */
  readonly additive?: number
}

/** Training inputs: n rows of `dims` columns, row-major, and their (standardized) targets. */
export interface Data {
  readonly x: Float64Array
  readonly n: number
  readonly dims: number
  readonly y: Float64Array
}

const LOG_2PI = Math.log(2 * Math.PI)
/** Noise floor (variance, standardized units), as Optuna's DEFAULT_MINIMUM_NOISE_VAR. */
export const MIN_NOISE = 1e-6

// Bounds of the log-hyperparameters: [log amplitude, log l_1..d, log noise].
const BOUNDS = {
  amplitude: [Math.log(1e-2), Math.log(1e2)],
  length: [Math.log(5e-3), Math.log(2e1)],
  noise: [Math.log(MIN_NOISE), Math.log(1)],
  additive: [Math.log(1e-4), Math.log(1e2)]
} as const

/** The log-hyperparameters [amplitude, l_1..d, noise, additive?]: the last only for an additive kernel. */
export const toTheta = (h: Hyper): Float64Array =>
  Float64Array.from([
    Math.log(h.amplitude),
    ...Array.from(h.lengthScales, Math.log),
    Math.log(h.noise),
    ...((h.additive ?? 0) > 0 ? [Math.log(h.additive!)] : [])
  ])

export const fromTheta = (theta: ArrayLike<number>, dims: number): Hyper => ({
  amplitude: Math.exp(theta[0]),
  lengthScales: Float64Array.from({ length: dims }, (_, p) => Math.exp(theta[1 + p])),
  noise: Math.exp(theta[dims + 1]),
  additive: theta.length > dims + 2 ? Math.exp(theta[dims + 2]) : 0
})

/** The first-order additive sum, sum_p g(r_p^2), between row i of `a` and row j of `b`. */
const additiveSum = (kind: Kernel.Kind, a: Float64Array, i: number, b: Float64Array, j: number, invL2: Float64Array, dims: number) => {
  let s = 0
  for (let p = 0; p < dims; p++) {
    const d = a[i * dims + p] - b[j * dims + p]
    s += Kernel.shape(kind, d * d * invL2[p])
  }
  return s
}

const invL2Of = (h: Hyper) => Float64Array.from(h.lengthScales, (l) => 1 / (l * l))

/**
 * The signal kernel matrix between the rows of `data.x` (no noise). With `forGradient`, also what
 * the likelihood's gradient reads below the diagonal: the scaled squared distances and, for an
 * additive kernel, the additive component alone and, per pair and dimension, its derivative in
 * log l_p.
 */
const kernelMatrix = (kind: Kernel.Kind, data: Data, h: Hyper, forGradient = false) => {
  const { n, dims, x } = data
  const invL2 = invL2Of(h)
  const addWeight = (h.additive ?? 0) / dims
  const k = new Float64Array(n * n)
  const r2 = forGradient ? new Float64Array(n * n) : undefined
  const ka = forGradient && addWeight > 0 ? new Float64Array(n * n) : undefined
  const kaLength = ka !== undefined ? new Float64Array(((n * (n - 1)) / 2) * dims) : undefined
  const g = new Float64Array(2)
  for (let i = 0; i < n; i++) {
    k[i * n + i] = h.amplitude + (h.additive ?? 0)
    for (let j = 0; j < i; j++) {
      const d2 = Kernel.scaledDistance2(x, i, x, j, invL2, dims)
      let v = h.amplitude * Kernel.shape(kind, d2)
      if (kaLength !== undefined) {
        let sum = 0
        const at = ((i * (i - 1)) / 2 + j) * dims
        for (let p = 0; p < dims; p++) {
          const d = x[i * dims + p] - x[j * dims + p]
          const rp2 = d * d * invL2[p]
          Kernel.shapeAndLengthGradient(kind, rp2, g)
          sum += g[0]
          kaLength[at + p] = addWeight * g[1] * rp2
        }
        ka![i * n + j] = addWeight * sum
        v += addWeight * sum
      } else if (addWeight > 0) v += addWeight * additiveSum(kind, x, i, x, j, invL2, dims)
      k[i * n + j] = v
      k[j * n + i] = v
      if (r2 !== undefined) r2[i * n + j] = d2
    }
  }
  return { k, r2, invL2, ka, kaLength }
}

/** The Cholesky factor of K + noise I (with jitter when needed); throws `NotPositiveDefinite`. */
const factor = (kind: Kernel.Kind, data: Data, h: Hyper) => {
  const { k, invL2 } = kernelMatrix(kind, data, h)
  for (let i = 0; i < data.n; i++) k[i * data.n + i] += h.noise
  return { ...Linalg.cholesky(k, data.n, true), invL2 }
}

/**
 * The negative log posterior of the hyperparameters (negative log marginal likelihood minus the log
 * prior, constants dropped from the prior) and its gradient in log space. Infinity when the kernel
 * matrix cannot be factored.
 */
export const negLogPosterior = (
  kind: Kernel.Kind,
  data: Data,
  theta: ArrayLike<number>,
  withPrior = true
): { f: number; g: Float64Array } => {
  const { n, dims, x, y } = data
  const h = fromTheta(theta, dims)
  const { k, r2, invL2, ka, kaLength } = kernelMatrix(kind, data, h, true)
  for (let i = 0; i < n; i++) k[i * n + i] += h.noise
  const g = new Float64Array(theta.length)
  let chol
  try {
    chol = Linalg.cholesky(k, n, true)
  } catch {
    return { f: Infinity, g }
  }
  const { l } = chol
  const alpha = Linalg.cholSolve(l, n, y)
  let yAy = 0
  for (let i = 0; i < n; i++) yAy += y[i] * alpha[i]
  const logml = -0.5 * yAy - 0.5 * Linalg.logDet(l, n) - 0.5 * n * LOG_2PI
  // d logml / d theta_p = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta_p).
  const inv = Linalg.cholInverse(l, n)
  const gl = new Float64Array(dims)
  let gAmp = 0
  let gNoise = 0
  let gAdd = 0
  for (let i = 0; i < n; i++) {
    const wii = alpha[i] * alpha[i] - inv[i * n + i]
    gAmp += wii * h.amplitude
    gNoise += wii * h.noise
    gAdd += wii * (h.additive ?? 0)
    const oi = i * dims
    for (let j = 0; j < i; j++) {
      const w = 2 * (alpha[i] * alpha[j] - inv[i * n + j])
      const d2 = r2![i * n + j]
      // The signal kernel is kept in the upper triangle.
      const kAdd = ka === undefined ? 0 : ka[i * n + j]
      gAmp += w * (k[j * n + i] - kAdd)
      gAdd += w * kAdd
      if (kaLength !== undefined) {
        const at = ((i * (i - 1)) / 2 + j) * dims
        for (let p = 0; p < dims; p++) gl[p] += w * kaLength[at + p]
      }
      const c = w * h.amplitude * Kernel.lengthGradient(kind, d2)
      if (c === 0) continue
      const oj = j * dims
      for (let p = 0; p < dims; p++) {
        const d = x[oi + p] - x[oj + p]
        gl[p] += c * d * d * invL2[p]
      }
    }
  }
  g[0] = -0.5 * gAmp
  for (let p = 0; p < dims; p++) g[1 + p] = -0.5 * gl[p]
  g[dims + 1] = -0.5 * gNoise
  if (ka !== undefined) g[dims + 2] = -0.5 * gAdd
  let f = -logml
  if (withPrior) {
    // log prior: -sum (0.1 l^2 + 0.1 / l^2) + Gamma(2, 1) on the amplitude + Gamma(1.1, 30) on the noise.
    for (let p = 0; p < dims; p++) {
      const l2 = h.lengthScales[p] * h.lengthScales[p]
      f += 0.1 * l2 + 0.1 / l2
      g[1 + p] += 0.2 * l2 - 0.2 / l2
    }
    f -= theta[0] - h.amplitude
    g[0] -= 1 - h.amplitude
    f -= 0.1 * theta[dims + 1] - 30 * h.noise
    g[dims + 1] -= 0.1 - 30 * h.noise
    if (ka !== undefined) {
      // Exponential(1) on the additive variance: the component stays small unless the data ask for it.
      f += h.additive!
      g[dims + 2] += h.additive!
    }
  }
  return { f, g }
}

/** Options of `fit`. */
export interface FitOptions {
  /** Restarts besides the default start (default 2): with `additive`, the first fits a mostly additive kernel. */
  readonly restarts?: number
  readonly maxIterations?: number
  /** Fit on at most this many points (a seeded subset keeping the best ones); the posterior uses all. */
  readonly maxPoints?: number
  /** The starting point of the first run, for instance the last fit. */
  readonly initial?: Hyper
  /** Fit a first-order additive component too (see `Hyper.additive`; default false). */
  readonly additive?: boolean
}

/**
 * Type-II MAP hyperparameters, multi-start in log space; with `additive`, a mostly additive fit
 * replaces the best one when its leave-one-out likelihood is higher.
 */
export const fit = (kind: Kernel.Kind, data: Data, rng: Rng.Generator, options: FitOptions = {}): Hyper => {
  const dims = data.dims
  const sub = subset(data, options.maxPoints ?? 160, rng)
  const add = options.additive === true && dims > 1
  const lower = [BOUNDS.amplitude[0], ...Array(dims).fill(BOUNDS.length[0]), BOUNDS.noise[0], ...(add ? [BOUNDS.additive[0]] : [])]
  const upper = [BOUNDS.amplitude[1], ...Array(dims).fill(BOUNDS.length[1]), BOUNDS.noise[1], ...(add ? [BOUNDS.additive[1]] : [])]
  const starts: Array<ArrayLike<number>> = [
    options.initial && ((options.initial.additive ?? 0) > 0) === add
      ? toTheta(options.initial)
      : [0, ...Array(dims).fill(0), Math.log(1e-2), ...(add ? [Math.log(0.1)] : [])]
  ]
  // With the additive component, the first restart fits a mostly additive kernel (the full one
  // pinned at its smallest amplitude): on few trials the marginal likelihood keeps choosing the
  // full kernel even where it predicts worse, so that fit competes by leave-one-out predictive
  // likelihood instead (Rasmussen & Williams 2006, section 5.4.2).
  const restarts = options.restarts ?? 2
  const pinned = add && restarts > 0
  for (let r = pinned ? 1 : 0; r < restarts; r++) {
    starts.push([
      rng.uniform(Math.log(0.3), Math.log(3)),
      ...Array.from({ length: dims }, () => rng.uniform(Math.log(0.1), Math.log(2))),
      rng.uniform(Math.log(1e-5), Math.log(1e-1)),
      ...(add ? [rng.uniform(Math.log(1e-2), Math.log(1))] : [])
    ])
  }
  const run = (start: ArrayLike<number>, hi: ArrayLike<number>) =>
    minimize((t) => negLogPosterior(kind, sub, t), start, lower, hi, { maxIterations: options.maxIterations ?? 50, tolerance: 1e-4 })
  let best: { x: Float64Array; f: number } | undefined
  for (const s of starts) {
    const r = run(s, upper)
    if (Number.isFinite(r.f) && (best === undefined || r.f < best.f)) best = r
  }
  if (pinned) {
    const floor = BOUNDS.amplitude[0]
    const additive = run([floor, ...Array(dims).fill(Math.log(0.3)), Math.log(1e-2), 0], [floor, ...upper.slice(1)])
    if (
      Number.isFinite(additive.f) &&
      (best === undefined || looLogLikelihood(kind, sub, fromTheta(additive.x, dims)) > looLogLikelihood(kind, sub, fromTheta(best.x, dims)))
    ) best = additive
  }
  if (best === undefined) return { amplitude: 1, lengthScales: new Float64Array(dims).fill(1), noise: 1e-2, additive: 0 }
  const h = fromTheta(best.x, dims)
  // An additive component at its lower bound changes no prediction, and would double their cost.
  return (h.additive ?? 0) < 1e-3 * h.amplitude ? { ...h, additive: 0 } : h
}

/**
 * The leave-one-out predictive log likelihood of the data under the hyperparameters, in closed
 * form from K^-1 (Rasmussen & Williams 2006, eqs. 5.10-5.12); -Infinity when K cannot be factored.
 */
export const looLogLikelihood = (kind: Kernel.Kind, data: Data, h: Hyper): number => {
  const { n, y } = data
  let l: Float64Array
  try {
    l = factor(kind, data, h).l
  } catch {
    return -Infinity
  }
  const inv = Linalg.cholInverse(l, n)
  const alpha = Linalg.cholSolve(l, n, y)
  let s = 0
  for (let i = 0; i < n; i++) {
    const kii = inv[i * n + i]
    s += 0.5 * Math.log(kii) - (alpha[i] * alpha[i]) / (2 * kii) - 0.5 * LOG_2PI
  }
  return s
}

/**
 * The leave-one-out predictive means and variances of the data under the hyperparameters, in
 * closed form: mean_i = y_i - [K^-1 y]_i / [K^-1]_ii, variance_i = 1 / [K^-1]_ii (Rasmussen &
 * Williams 2006, eqs. 5.10-5.12); what the prior transfer's ranking weights read for the study's
 * own model. Undefined when K cannot be factored.
 */
export const looPredictions = (kind: Kernel.Kind, data: Data, h: Hyper): { readonly mean: Float64Array; readonly variance: Float64Array } | undefined => {
  const { n, y } = data
  let l: Float64Array
  try {
    l = factor(kind, data, h).l
  } catch {
    return undefined
  }
  const inv = Linalg.cholInverse(l, n)
  const alpha = Linalg.cholSolve(l, n, y)
  const mean = new Float64Array(n)
  const variance = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const kii = inv[i * n + i]
    mean[i] = y[i] - alpha[i] / kii
    variance[i] = 1 / kii
  }
  return { mean, variance }
}

/** At most `max` rows: the best (highest y) fifth always, then a seeded random choice of the rest. */
export const subset = (data: Data, max: number, rng: Rng.Generator): Data => {
  if (data.n <= max) return data
  const order = Array.from({ length: data.n }, (_, i) => i).sort((a, b) => data.y[b] - data.y[a])
  const keepBest = Math.floor(max / 5)
  const chosen = [...order.slice(0, keepBest), ...rng.shuffle(order.slice(keepBest)).slice(0, max - keepBest)]
  const x = new Float64Array(max * data.dims)
  const y = new Float64Array(max)
  chosen.forEach((i, r) => {
    x.set(data.x.subarray(i * data.dims, (i + 1) * data.dims), r * data.dims)
    y[r] = data.y[i]
  })
  return { x, y, n: max, dims: data.dims }
}

/** A fitted posterior. Means and variances are of the latent function, in the units of `data.y`. */
export interface Posterior {
  readonly kind: Kernel.Kind
  readonly hyper: Hyper
  readonly data: Data
  /** The jitter that was added to the diagonal to factor the kernel matrix. */
  readonly jitter: number
  /** Mean and variance at one point (a `dims`-vector). */
  readonly predict: (x: ArrayLike<number>) => { readonly mean: number; readonly variance: number }
}

/** The posterior of a GP with given hyperparameters on `data` (noise added to the diagonal). */
export const posterior = (kind: Kernel.Kind, data: Data, hyper: Hyper): Posterior => {
  const { n, dims, x } = data
  const { l, jitter, invL2 } = factor(kind, data, hyper)
  const alpha = Linalg.cholSolve(l, n, data.y)
  const kv = new Float64Array(n)
  const q = new Float64Array(dims)
  const addWeight = (hyper.additive ?? 0) / dims
  const prior = hyper.amplitude + (hyper.additive ?? 0)
  return {
    kind,
    hyper,
    data,
    jitter,
    predict: (xq) => {
      for (let p = 0; p < dims; p++) q[p] = xq[p]
      let mean = 0
      const amp = hyper.amplitude
      const matern = kind === "matern52"
      for (let i = 0; i < n; i++) {
        let r2 = 0
        const oi = i * dims
        for (let p = 0; p < dims; p++) {
          const d = q[p] - x[oi + p]
          r2 += d * d * invL2[p]
        }
        let v: number
        if (matern) {
          const r = Math.sqrt(5 * r2)
          v = amp * (1 + r + (r * r) / 3) * Math.exp(-r)
        } else v = amp * Math.exp(-0.5 * r2)
        if (addWeight > 0) v += addWeight * additiveSum(kind, q, 0, x, i, invL2, dims)
        kv[i] = v
        mean += v * alpha[i]
      }
      // v = L^-1 k*, variance = k(x, x) - v.v
      let vv = 0
      for (let i = 0; i < n; i++) {
        const ri = i * n
        let s = kv[i]
        for (let t = 0; t < i; t++) s -= l[ri + t] * kv[t]
        s /= l[ri + i]
        kv[i] = s
        vv += s * s
      }
      return { mean, variance: Math.max(prior - vv, 1e-12 * prior) }
    }
  }
}
