// Acquisition functions in closed form, for a Gaussian posterior N(mu, sigma^2) of an objective
// that is MAXIMIZED (the GP sampler negates minimized objectives):
//   PI  = Phi(z)                       (Kushner 1964)
//   EI  = sigma * (z Phi(z) + phi(z))  (Mockus 1978; Jones et al. 1998; Snoek et al. 2012 eq. 2)
//   UCB = mu + kappa * sigma           (Srinivas et al. 2010)
// with z = (mu - best - xi) / sigma. log EI follows Ament et al., "Unexpected improvements to
// expected improvement" (NeurIPS 2023): it stays finite and informative far below the incumbent,
// where EI itself underflows to 0 and gives the optimizer no slope.

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI)
const LOG_SQRT_PI_2 = 0.5 * Math.log(Math.PI / 2)
const SQRT1_2 = Math.SQRT1_2

/** The standard normal density. */
export const normalPdf = (z: number): number => Math.exp(-0.5 * z * z - LOG_SQRT_2PI)

/**
 * The scaled complementary error function erfcx(x) = exp(x^2) erfc(x), for x >= 0, from the
 * Chebyshev fit of Numerical Recipes (erfcc, relative error below 1.2e-7); written in this form
 * it never overflows.
 */
export const erfcxPositive = (x: number): number => {
  const t = 1 / (1 + 0.5 * x)
  const p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
    t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
  return t * Math.exp(p)
}

/** erfc(x) for any x. */
export const erfc = (x: number): number => (x >= 0 ? erfcxPositive(x) * Math.exp(-x * x) : 2 - erfcxPositive(-x) * Math.exp(-x * x))

/** The standard normal distribution function. */
export const normalCdf = (z: number): number => 0.5 * erfc(-z * SQRT1_2)

/** log Phi(z), accurate in the far lower tail. */
export const logNormalCdf = (z: number): number =>
  z < -1 ? Math.log(0.5 * erfcxPositive(-z * SQRT1_2)) - 0.5 * z * z : Math.log(normalCdf(z))

/** h(z) = z Phi(z) + phi(z), the expected improvement of a unit-variance posterior. */
export const h = (z: number): number => z * normalCdf(z) + normalPdf(z)

const log1mexp = (x: number): number => (x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x)))

/** log h(z), finite for every z (Ament et al. 2023, eq. 9, with a continued fraction in the far tail). */
export const logH = (z: number): number => {
  if (z > -1) return Math.log(h(z))
  if (z > -4) {
    // h(z) = phi(z) (1 - |z| Phi(z) / phi(z)) and Phi(z) / phi(z) = sqrt(pi / 2) erfcx(-z / sqrt 2).
    return -0.5 * z * z - LOG_SQRT_2PI + log1mexp(Math.log(erfcxPositive(-z * SQRT1_2) * -z) + LOG_SQRT_PI_2)
  }
  if (z > -1e6) {
    // Laplace's continued fraction of Mills' ratio, m(t) = 1 / (t + T1), T_k = k / (t + T_{k+1}),
    // gives 1 - t m(t) = T1 / (t + T1) without the cancellation of the difference.
    const t = -z
    let tail = 0
    for (let k = 120; k >= 1; k--) tail = k / (t + tail)
    return -0.5 * z * z - LOG_SQRT_2PI + Math.log(tail / (t + tail))
  }
  return -0.5 * z * z - LOG_SQRT_2PI - 2 * Math.log(-z)
}

/** Expected improvement over `best` (maximization). */
export const expectedImprovement = (mu: number, sigma: number, best: number, xi = 0): number => {
  const d = mu - best - xi
  if (sigma <= 0) return Math.max(d, 0)
  return sigma * h(d / sigma)
}

/** log of the expected improvement; -Infinity only when sigma is 0 and there is no improvement. */
export const logExpectedImprovement = (mu: number, sigma: number, best: number, xi = 0): number => {
  const d = mu - best - xi
  if (sigma <= 0) return d > 0 ? Math.log(d) : -Infinity
  return Math.log(sigma) + logH(d / sigma)
}

/** Probability of improvement over `best` (maximization). */
export const probabilityOfImprovement = (mu: number, sigma: number, best: number, xi = 0): number => {
  const d = mu - best - xi
  if (sigma <= 0) return d > 0 ? 1 : 0
  return normalCdf(d / sigma)
}

/** log of the probability of improvement, accurate far below the incumbent. */
export const logProbabilityOfImprovement = (mu: number, sigma: number, best: number, xi = 0): number => {
  const d = mu - best - xi
  if (sigma <= 0) return d > 0 ? 0 : -Infinity
  return logNormalCdf(d / sigma)
}

/** Upper confidence bound (maximization). */
export const upperConfidenceBound = (mu: number, sigma: number, kappa: number): number => mu + kappa * sigma
