// The covariance matrix adaptation evolution strategy, as an immutable state and a pure update,
// after N. Hansen (2016), "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772 (default
// parameters of Table 1 with positive recombination weights, the update of Appendix A).
// Two additions:
// - external solutions (from an older distribution, another sampler or an enqueued config) are
//   accepted, their steps clipped in Mahalanobis norm as in N. Hansen (2011), "Injecting External
//   Solutions Into CMA-ES", INRIA RR-7748;
// - the margin for integer dimensions of R. Hamano, S. Saito, M. Nomura, S. Shirakawa (2022),
//   "CMA-ES with Margin: Lower-Bounding Marginal Probability for Mixed-Integer Black-Box
//   Optimization", GECCO '22: a diagonal scaling A, used only to encode integer coordinates,
//   and a corrected mean keep the probability of leaving the mean's integer cell at least `margin`.

/** One dimension with values on a grid: its cells in the unit interval. */
export interface Discrete {
  /** How many values. */
  readonly count: number
  /** The boundary between cell i and cell i + 1 (i in [0, count - 2]), in unit coordinates. */
  readonly threshold: (i: number) => number
  /** The cell a unit coordinate falls in (coordinates outside [0, 1] fall in the end cells). */
  readonly cellOf: (u: number) => number
}

export interface Params {
  readonly n: number
  readonly lambda: number
  readonly mu: number
  readonly weights: Float64Array
  readonly mueff: number
  readonly cc: number
  readonly cs: number
  readonly c1: number
  readonly cmu: number
  readonly ds: number
  readonly chiN: number
}

/** Default strategy parameters for dimension n and population lambda (Hansen 2016, Table 1). */
export const params = (n: number, lambda: number): Params => {
  const mu = Math.floor(lambda / 2)
  const raw = new Float64Array(mu)
  let sum = 0
  for (let i = 0; i < mu; i++) {
    raw[i] = Math.log((lambda + 1) / 2) - Math.log(i + 1)
    sum += raw[i]
  }
  let sq = 0
  for (let i = 0; i < mu; i++) {
    raw[i] /= sum
    sq += raw[i] * raw[i]
  }
  const mueff = 1 / sq
  const cc = (4 + mueff / n) / (n + 4 + (2 * mueff) / n)
  const cs = (mueff + 2) / (n + mueff + 5)
  const c1 = 2 / ((n + 1.3) ** 2 + mueff)
  const cmu = Math.min(1 - c1, (2 * (mueff - 2 + 1 / mueff)) / ((n + 2) ** 2 + mueff))
  const ds = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
  return { n, lambda, mu, weights: raw, mueff, cc, cs, c1, cmu, ds, chiN }
}

/** The default population size, 4 + floor(3 ln n). */
export const defaultLambda = (n: number): number => 4 + Math.floor(3 * Math.log(n))

export interface State {
  readonly p: Params
  readonly mean: Float64Array
  readonly sigma: number
  /** Covariance, row-major n x n. */
  readonly C: Float64Array
  /** Eigenvectors of C as columns (row-major), and the square roots of its eigenvalues. */
  readonly B: Float64Array
  readonly D: Float64Array
  readonly pc: Float64Array
  readonly ps: Float64Array
  /** The margin's scaling of integer coordinates around the mean (1 elsewhere). */
  readonly A: Float64Array
  /** How many updates this run of the strategy has made. */
  readonly generation: number
  /** The best value of each recent generation (for the flat-fitness restart criterion). */
  readonly recentBest: ReadonlyArray<number>
}

const identity = (n: number): Float64Array => {
  const m = new Float64Array(n * n)
  for (let i = 0; i < n; i++) m[i * n + i] = 1
  return m
}

/** A fresh strategy: mean, step size, identity covariance. */
export const init = (mean: ArrayLike<number>, sigma: number, lambda: number): State => {
  const n = mean.length
  return {
    p: params(n, lambda),
    mean: Float64Array.from(mean),
    sigma,
    C: identity(n),
    B: identity(n),
    D: new Float64Array(n).fill(1),
    pc: new Float64Array(n),
    ps: new Float64Array(n),
    A: new Float64Array(n).fill(1),
    generation: 0,
    recentBest: []
  }
}

/** A raw solution m + sigma B D z for a standard normal vector z. */
export const sampleRaw = (s: State, z: ArrayLike<number>): Float64Array => {
  const n = s.p.n
  const x = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let v = 0
    for (let j = 0; j < n; j++) v += s.B[i * n + j] * s.D[j] * z[j]
    x[i] = s.mean[i] + s.sigma * v
  }
  return x
}

/** The integer cell of a raw coordinate: the margin's scaling A applies around the mean. */
export const encode = (s: State, j: number, d: Discrete, xj: number): number =>
  d.cellOf((xj - s.mean[j]) * s.A[j] + s.mean[j])

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: returns eigenvectors as
 * columns of `vectors` (row-major) and `values`. Small n (search spaces), so O(n^3) sweeps are fine.
 */
export const eigenSymmetric = (a: Float64Array, n: number): { vectors: Float64Array; values: Float64Array } => {
  const m = Float64Array.from(a)
  const v = identity(n)
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += m[i * n + j] ** 2
    if (off < 1e-30) break
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]
        if (Math.abs(apq) < 1e-300) continue
        const app = m[p * n + p]
        const aqq = m[q * n + q]
        const theta = (aqq - app) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const sn = t * c
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]
          const mkq = m[k * n + q]
          m[k * n + p] = c * mkp - sn * mkq
          m[k * n + q] = sn * mkp + c * mkq
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]
          const mqk = m[q * n + k]
          m[p * n + k] = c * mpk - sn * mqk
          m[q * n + k] = sn * mpk + c * mqk
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]
          const vkq = v[k * n + q]
          v[k * n + p] = c * vkp - sn * vkq
          v[k * n + q] = sn * vkp + c * vkq
        }
      }
    }
  }
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) values[i] = m[i * n + i]
  return { vectors: v, values }
}

/** C^{-1/2} y = B D^{-1} B^T y. */
const invSqrtTimes = (s: State, y: ArrayLike<number>): Float64Array => {
  const n = s.p.n
  const t = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    let v = 0
    for (let i = 0; i < n; i++) v += s.B[i * n + j] * y[i]
    t[j] = v / s.D[j]
  }
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let v = 0
    for (let j = 0; j < n; j++) v += s.B[i * n + j] * t[j]
    out[i] = v
  }
  return out
}

const norm = (v: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i] * v[i]
  return Math.sqrt(s)
}

/** How many generations of best values the flat-fitness criterion looks back over. */
const flatWindow = (p: Params) => 10 + Math.ceil((30 * p.n) / p.lambda)

/**
 * One generation's update from solutions sorted best first (raw coordinates x and their values).
 * Fewer than mu solutions are recombined with the leading weights renormalized. Returns a new
 * state; `s` is not changed.
 */
export const update = (s: State, sorted: ReadonlyArray<{ readonly x: ArrayLike<number>; readonly value: number }>): State => {
  const p = s.p
  const n = p.n
  const k = Math.min(p.mu, sorted.length)
  if (k === 0) return s
  let wsum = 0
  for (let i = 0; i < k; i++) wsum += p.weights[i]
  const w = new Float64Array(k)
  let wsq = 0
  for (let i = 0; i < k; i++) {
    w[i] = p.weights[i] / wsum
    wsq += w[i] * w[i]
  }
  const mueff = 1 / wsq
  // Steps y = (x - m) / sigma, clipped in Mahalanobis norm (Hansen 2011, eq. 4).
  const clip = Math.sqrt(n) + (2 * n) / (n + 2)
  const ys: Array<Float64Array> = []
  for (let i = 0; i < k; i++) {
    const y = new Float64Array(n)
    for (let j = 0; j < n; j++) y[j] = (sorted[i].x[j] - s.mean[j]) / s.sigma
    const mn = norm(invSqrtTimes(s, y))
    if (mn > clip) for (let j = 0; j < n; j++) y[j] *= clip / mn
    ys.push(y)
  }
  const yw = new Float64Array(n)
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) yw[j] += w[i] * ys[i][j]
  const mean = new Float64Array(n)
  for (let j = 0; j < n; j++) mean[j] = s.mean[j] + s.sigma * yw[j]

  const cyw = invSqrtTimes(s, yw)
  const ps = new Float64Array(n)
  const fs = Math.sqrt(p.cs * (2 - p.cs) * mueff)
  for (let j = 0; j < n; j++) ps[j] = (1 - p.cs) * s.ps[j] + fs * cyw[j]
  const g = s.generation + 1
  const psn = norm(ps)
  const hs = psn / Math.sqrt(1 - (1 - p.cs) ** (2 * g)) < (1.4 + 2 / (n + 1)) * p.chiN ? 1 : 0
  const pc = new Float64Array(n)
  const fc = hs * Math.sqrt(p.cc * (2 - p.cc) * mueff)
  for (let j = 0; j < n; j++) pc[j] = (1 - p.cc) * s.pc[j] + fc * yw[j]
  const delta = (1 - hs) * p.cc * (2 - p.cc)
  const C = new Float64Array(n * n)
  const keep = 1 + p.c1 * delta - p.c1 - p.cmu
  for (let a = 0; a < n; a++) {
    for (let b = 0; b <= a; b++) {
      let rankMu = 0
      for (let i = 0; i < k; i++) rankMu += w[i] * ys[i][a] * ys[i][b]
      const v = keep * s.C[a * n + b] + p.c1 * pc[a] * pc[b] + p.cmu * rankMu
      C[a * n + b] = v
      C[b * n + a] = v
    }
  }
  // The exponent is capped so that one odd generation (injected solutions) cannot blow sigma up.
  const sigma = s.sigma * Math.exp(Math.min(1, (p.cs / p.ds) * (psn / p.chiN - 1)))
  const { vectors, values } = eigenSymmetric(C, n)
  const D = new Float64Array(n)
  for (let j = 0; j < n; j++) D[j] = Math.sqrt(Math.max(values[j], 1e-300))
  const recentBest = [...s.recentBest, sorted[0].value].slice(-flatWindow(p))
  return { p, mean, sigma, C, B: vectors, D, pc, ps, A: s.A, generation: g, recentBest }
}

/**
 * Whether the run has converged and should restart (Hansen 2016, appendix B.3; used by IPOP):
 * the step is negligible (TolX), the covariance is ill-conditioned, or the best values of recent
 * generations and the values of the last one are all equal (TolFun, flat fitness).
 */
export const shouldRestart = (s: State, lastValues: ReadonlyArray<number>): boolean => {
  const n = s.p.n
  let maxStd = 0
  for (let i = 0; i < n; i++) maxStd = Math.max(maxStd, s.sigma * Math.sqrt(s.C[i * n + i]))
  if (maxStd < 1e-11) return true
  let dmin = Infinity
  let dmax = 0
  for (const d of s.D) {
    dmin = Math.min(dmin, d)
    dmax = Math.max(dmax, d)
  }
  if (dmax / dmin > 1e7) return true
  if (s.recentBest.length >= flatWindow(s.p) && lastValues.length > 0) {
    const all = [...s.recentBest, ...lastValues]
    if (Math.max(...all) - Math.min(...all) < 1e-12) return true
  }
  return false
}

/**
 * The margin correction after an update (Hamano et al. 2022, section 4): for each integer
 * coordinate, moves the mean and rescales A so that a sample leaves the mean's cell (on each side
 * that has a neighbour) with probability at least margin / 2. Returns a new state.
 */
export const applyMargin = (s: State, discrete: ReadonlyArray<Discrete | undefined>, margin: number): State => {
  const n = s.p.n
  if (!discrete.some((d) => d !== undefined)) return s
  const mean = Float64Array.from(s.mean)
  const A = Float64Array.from(s.A)
  const half = margin / 2
  for (let j = 0; j < n; j++) {
    const d = discrete[j]
    if (d === undefined || d.count < 2) continue
    const c = d.cellOf(mean[j])
    const lastT = d.count - 2
    const lo = d.threshold(Math.min(Math.max(c - 1, 0), lastT))
    const up = d.threshold(Math.min(Math.max(c, 0), lastT))
    const sd = Math.sqrt(s.C[j * n + j])
    const scale = s.sigma * A[j] * sd
    let low = normCdf((lo - mean[j]) / scale)
    let high = 1 - normCdf((up - mean[j]) / scale)
    const mid = 1 - low - high
    if (Math.max(low, high) > 0.5) {
      // The mean lies in an end cell (or beyond): put it where crossing into the neighbour has
      // probability margin, on the side of the mean.
      if (Math.min(low, high) < margin) {
        const sign = Math.sign(mean[j] - up) || -1
        mean[j] = up + sign * scale * normQuantile(1 - margin)
      }
      continue
    }
    low = Math.max(low, half)
    high = Math.max(high, half)
    const excess = 1 - low - high - mid
    const denom = low + mid + high - 3 * half
    const lowM = clamp(low + (excess * (low - half)) / denom, 1e-10, 0.5 - 1e-10)
    const highM = clamp(high + (excess * (high - half)) / denom, 1e-10, 0.5 - 1e-10)
    const qLow = normQuantile(1 - lowM)
    const qHigh = normQuantile(1 - highM)
    // Solve for the mean and A so that P(x < lo) = lowM and P(x > up) = highM, sigma and C fixed.
    A[j] = (up - lo) / ((qLow + qHigh) * s.sigma * sd)
    mean[j] = (lo * qHigh + up * qLow) / (qLow + qHigh)
  }
  return { ...s, mean, A }
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))

/** The standard normal CDF, through erfc. */
export const normCdf = (x: number): number => 0.5 * erfc(-x / Math.SQRT2)

const erfc = (x: number): number => {
  // Numerical Recipes' erfcc: fractional error below 1.2e-7 everywhere.
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    )
  return x >= 0 ? r : 2 - r
}

/** The standard normal quantile (P. J. Acklam's rational approximation, relative error < 1.2e-9). */
export const normQuantile = (p: number): number => {
  if (p <= 0) return -Infinity
  if (p >= 1) return Infinity
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const pl = 0.02425
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  if (p > 1 - pl) {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  const q = p - 0.5
  const r = q * q
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
}
