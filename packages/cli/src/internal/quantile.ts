// Inverse CDFs for the sweep distributions that tunekit's Space lacks (normal, log-normal, beta):
// a sampler works on a uniform internal value p in [0, 1], and the program gets F⁻¹(p). This is
// also how W&B's own sweeps map their Bayesian search space (`HyperParameter.ppf` over
// `HyperParameter.cdf`, wandb/sweeps src/sweeps/params.py).

/** p is kept this far from 0 and 1, so that F⁻¹(p) is finite (about ±7 standard deviations). */
export const EDGE = 1e-12

const clampP = (p: number) => Math.min(1 - EDGE, Math.max(EDGE, p))

// P. J. Acklam's rational approximation of the standard normal quantile (relative error below
// 1.15e-9 over (0, 1)), "An algorithm for computing the inverse normal cumulative distribution
// function" (2003).
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
const LOW = 0.02425

const tail = (p: number) => {
  const q = Math.sqrt(-2 * Math.log(p))
  return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1)
}

/** The standard normal quantile Φ⁻¹(p), for p in (0, 1) (kept EDGE away from 0 and 1). */
export const normal = (p0: number): number => {
  const p = clampP(p0)
  if (p < LOW) return tail(p)
  if (p > 1 - LOW) return -tail(1 - p)
  const q = p - 0.5
  const r = q * q
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
    (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
}

// The log-gamma function by Lanczos' approximation (g = 7, 9 terms), with the reflection formula
// below 1/2.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
]
export const logGamma = (x: number): number => {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x)
  const z = x - 1
  let a = LANCZOS[0]
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

// The continued fraction of the incomplete beta function, by the modified Lentz method
// (Press et al., Numerical Recipes, 3rd ed., section 6.4).
const betaFraction = (a: number, b: number, x: number): number => {
  const tiny = 1e-300
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const step = d * c
    h *= step
    if (Math.abs(step - 1) < 1e-15) break
  }
  return h
}

/** The regularized incomplete beta function I_x(a, b): the CDF of Beta(a, b) at x. */
export const betaCdf = (x: number, a: number, b: number): number => {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x))
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b
}

/** The quantile of Beta(a, b) at p: I_x(a, b) = p solved by bisection (the CDF is monotone). */
export const beta = (p0: number, a: number, b: number): number => {
  const p = clampP(p0)
  let lo = 0
  let hi = 1
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2
    if (betaCdf(mid, a, b) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
