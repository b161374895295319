// A Gaussian-process regression model (Rasmussen & Williams 2006, algorithm 2.1) with an ARD kernel,
// fitted by maximizing the log marginal likelihood plus a weak log prior on the hyperparameters
// (type-II MAP), with the analytic gradient (R&W eq. 5.9), in log space, by projected L-BFGS from
// several starts. The prior is Optuna's (optuna/_gp/prior.py): it keeps length scales near the
// unit cube's scale and the noise small when the data do not ask for more.
import type { Rng } from "@tunekit/core"
import * as Kernel from "./kernel.js"
import * as Linalg from "./linalg.js"
import { minimize } from "./gpOptimizer.js"

/** The hyperparameters, all positive. */
export interface Hyper {
  readonly amplitude: number
  readonly lengthScales: Float64Array
  readonly noise: number
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
  noise: [Math.log(MIN_NOISE), Math.log(1)]
} as const

export const toTheta = (h: Hyper): Float64Array =>
  Float64Array.from([Math.log(h.amplitude), ...Array.from(h.lengthScales, Math.log), Math.log(h.noise)])

export const fromTheta = (theta: ArrayLike<number>, dims: number): Hyper => ({
  amplitude: Math.exp(theta[0]),
  lengthScales: Float64Array.from({ length: dims }, (_, p) => Math.exp(theta[1 + p])),
  noise: Math.exp(theta[dims + 1])
})

const invL2Of = (h: Hyper) => Float64Array.from(h.lengthScales, (l) => 1 / (l * l))

/** The signal kernel matrix between the rows of `data.x` (no noise), with the scaled squared distances. */
const kernelMatrix = (kind: Kernel.Kind, data: Data, h: Hyper) => {
  const { n, dims, x } = data
  const invL2 = invL2Of(h)
  const k = new Float64Array(n * n)
  const r2 = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    k[i * n + i] = h.amplitude
    for (let j = 0; j < i; j++) {
      const d2 = Kernel.scaledDistance2(x, i, x, j, invL2, dims)
      const v = h.amplitude * Kernel.shape(kind, d2)
      k[i * n + j] = v
      k[j * n + i] = v
      r2[i * n + j] = d2
      r2[j * n + i] = d2
    }
  }
  return { k, r2, invL2 }
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
  const { k, r2, invL2 } = kernelMatrix(kind, data, h)
  for (let i = 0; i < n; i++) k[i * n + i] += h.noise
  const g = new Float64Array(dims + 2)
  let chol
  try {
    chol = Linalg.cholesky(k, n, 0, true)
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
  for (let i = 0; i < n; i++) {
    const wii = alpha[i] * alpha[i] - inv[i * n + i]
    gAmp += wii * h.amplitude
    gNoise += wii * h.noise
    const oi = i * dims
    for (let j = 0; j < i; j++) {
      const w = 2 * (alpha[i] * alpha[j] - inv[i * n + j])
      const d2 = r2[i * n + j]
      gAmp += w * k[j * n + i] // the signal kernel, kept in the upper triangle
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
  }
  return { f, g }
}

/** Options of `fit`. */
export interface FitOptions {
  /** Random restarts besides the default start (default 2). */
  readonly restarts?: number
  readonly maxIterations?: number
  /** Fit on at most this many points (a seeded subset keeping the best ones); the posterior uses all. */
  readonly maxPoints?: number
  /** The starting point of the first run, for instance the last fit. */
  readonly initial?: Hyper
}

/** Type-II MAP hyperparameters, multi-start in log space. */
export const fit = (kind: Kernel.Kind, data: Data, rng: Rng.Generator, options: FitOptions = {}): Hyper => {
  const dims = data.dims
  const sub = subset(data, options.maxPoints ?? 160, rng)
  const lower = [BOUNDS.amplitude[0], ...Array(dims).fill(BOUNDS.length[0]), BOUNDS.noise[0]]
  const upper = [BOUNDS.amplitude[1], ...Array(dims).fill(BOUNDS.length[1]), BOUNDS.noise[1]]
  const starts: Array<ArrayLike<number>> = [
    options.initial ? toTheta(options.initial) : [0, ...Array(dims).fill(0), Math.log(1e-2)]
  ]
  for (let r = 0; r < (options.restarts ?? 2); r++) {
    starts.push([
      rng.uniform(Math.log(0.3), Math.log(3)),
      ...Array.from({ length: dims }, () => rng.uniform(Math.log(0.1), Math.log(2))),
      rng.uniform(Math.log(1e-5), Math.log(1e-1))
    ])
  }
  let best: { x: Float64Array; f: number } | undefined
  for (const s of starts) {
    const r = minimize((t) => negLogPosterior(kind, sub, t), s, lower, upper, {
      maxIterations: options.maxIterations ?? 50,
      tolerance: 1e-4
    })
    if (Number.isFinite(r.f) && (best === undefined || r.f < best.f)) best = r
  }
  return best ? fromTheta(best.x, dims) : { amplitude: 1, lengthScales: new Float64Array(dims).fill(1), noise: 1e-2 }
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
  const { k, invL2 } = kernelMatrix(kind, data, hyper)
  for (let i = 0; i < n; i++) k[i * n + i] += hyper.noise
  const { l, jitter } = Linalg.cholesky(k, n)
  const alpha = Linalg.cholSolve(l, n, data.y)
  const kv = new Float64Array(n)
  const q = new Float64Array(dims)
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
      return { mean, variance: Math.max(hyper.amplitude - vv, 1e-12 * hyper.amplitude) }
    }
  }
}
