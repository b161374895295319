// The normal and truncated-normal functions TPE's kernels need: erf/erfc (fdlibm's rational
// approximations, Sun Microsystems 1993, accurate to about 1 ulp), log Phi with an asymptotic
// series far in the left tail, the log of a Gaussian mass between two bounds, and the truncated
// normal's log density and quantile function. The left-tail formulation (flip to the left tail,
// work in log space, invert log Phi by Newton) follows SciPy's truncnorm as ported by Optuna.

const ERX = 8.45062911510467529297e-01
const EFX = 1.28379167095512586316e-01
// erf on [0, 0.84375]
const PP = [1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02, -5.77027029648944159157e-03, -2.37630166566501626084e-05]
const QQ = [1, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06]
// erf on [0.84375, 1.25]
const PA = [-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01, 3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02, -2.16637559486879084300e-03]
const QA = [1, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02]
// erfc on [1.25, 1/0.35]
const RA = [-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e01, -6.23753324503260060396e01, -1.62396669462573470355e02, -1.84605092906711035994e02, -8.12874355063065934246e01, -9.81432934416914548592e00]
const SA = [1, 1.96512716674392571292e01, 1.37657754143519042600e02, 4.34565877475229228821e02, 6.45387271733267880336e02, 4.29008140027567833386e02, 1.08635005541779435134e02, 6.57024977031928170135e00, -6.04244152148580987438e-02]
// erfc on [1/0.35, 28]
const RB = [-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e01, -1.60636384855821916062e02, -6.37566443368389627722e02, -1.02509513161107724954e03, -4.83519191608651397019e02]
const SB = [1, 3.03380607434824582924e01, 3.25792512996573918826e02, 1.53672958608443695994e03, 3.19985821950859553908e03, 2.55305040643316442583e03, 4.74528541206955367215e02, -2.24409524465858183362e01]

// The rational approximations' polynomials, unrolled (Horner) because erfc is the kernels' hot path.
const pp = (x: number): number => 1.28379167095512558561e-01 + x * (-3.25042107247001499370e-01 + x * (-2.84817495755985104766e-02 + x * (-5.77027029648944159157e-03 + x * (-2.37630166566501626084e-05))))
const qq = (x: number): number => 1 + x * (3.97917223959155352819e-01 + x * (6.50222499887672944485e-02 + x * (5.08130628187576562776e-03 + x * (1.32494738004321644526e-04 + x * (-3.96022827877536812320e-06)))))
const pa = (x: number): number => -2.36211856075265944077e-03 + x * (4.14856118683748331666e-01 + x * (-3.72207876035701323847e-01 + x * (3.18346619901161753674e-01 + x * (-1.10894694282396677476e-01 + x * (3.54783043256182359371e-02 + x * (-2.16637559486879084300e-03))))))
const qa = (x: number): number => 1 + x * (1.06420880400844228286e-01 + x * (5.40397917702171048937e-01 + x * (7.18286544141962662868e-02 + x * (1.26171219808761642112e-01 + x * (1.36370839120290507362e-02 + x * (1.19844998467991074170e-02))))))
const ra = (x: number): number => -9.86494403484714822705e-03 + x * (-6.93858572707181764372e-01 + x * (-1.05586262253232909814e01 + x * (-6.23753324503260060396e01 + x * (-1.62396669462573470355e02 + x * (-1.84605092906711035994e02 + x * (-8.12874355063065934246e01 + x * (-9.81432934416914548592e00)))))))
const sa = (x: number): number => 1 + x * (1.96512716674392571292e01 + x * (1.37657754143519042600e02 + x * (4.34565877475229228821e02 + x * (6.45387271733267880336e02 + x * (4.29008140027567833386e02 + x * (1.08635005541779435134e02 + x * (6.57024977031928170135e00 + x * (-6.04244152148580987438e-02))))))))
const rb = (x: number): number => -9.86494292470009928597e-03 + x * (-7.99283237680523006574e-01 + x * (-1.77579549177547519889e01 + x * (-1.60636384855821916062e02 + x * (-6.37566443368389627722e02 + x * (-1.02509513161107724954e03 + x * (-4.83519191608651397019e02))))))
const sb = (x: number): number => 1 + x * (3.03380607434824582924e01 + x * (3.25792512996573918826e02 + x * (1.53672958608443695994e03 + x * (3.19985821950859553908e03 + x * (2.55305040643316442583e03 + x * (4.74528541206955367215e02 + x * (-2.24409524465858183362e01)))))))

// exp(-x^2 - 0.5625 + R/S) / x for x in [1.25, 28): the tail factor of erfc. fdlibm splits x^2
// to make it exact; one exp of the rounded sum keeps the relative error near 1e-14 up to x = 28,
// ample for kernels, at half the cost.
const tail = (ax: number): number => {
  const s = 1 / (ax * ax)
  const rs = ax < 1 / 0.35 ? ra(s) / sa(s) : rb(s) / sb(s)
  return Math.exp(-ax * ax - 0.5625 + rs) / ax
}

/** The error function. */
export const erf = (x: number): number => {
  if (Number.isNaN(x)) return NaN
  const ax = Math.abs(x)
  const sign = x < 0 ? -1 : 1
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return x + EFX * x
    const z = x * x
    return x + x * (pp(z) / qq(z))
  }
  if (ax < 1.25) return sign * (ERX + pa(ax - 1) / qa(ax - 1))
  if (ax >= 6) return sign
  return sign * (1 - tail(ax))
}

/** The complementary error function 1 - erf(x), accurate in the right tail. */
export const erfc = (x: number): number => {
  if (Number.isNaN(x)) return NaN
  const ax = Math.abs(x)
  if (ax < 0.84375) {
    if (ax < 2 ** -56) return 1 - x
    const z = x * x
    const y = pp(z) / qq(z)
    return x < 0.25 ? 1 - (x + x * y) : 0.5 - (x * y + (x - 0.5))
  }
  if (ax < 1.25) {
    const pq = pa(ax - 1) / qa(ax - 1)
    return x >= 0 ? 1 - ERX - pq : 1 + ERX + pq
  }
  if (ax < 28) {
    if (x < -6) return 2
    const r = tail(ax)
    return x > 0 ? r : 2 - r
  }
  return x > 0 ? 0 : 2
}

const SQRT1_2 = Math.SQRT1_2
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI)

/** The standard normal CDF Phi(x). */
export const ndtr = (x: number): number => {
  const t = x * SQRT1_2
  if (t < -SQRT1_2) return 0.5 * erfc(-t)
  if (t < SQRT1_2) return 0.5 + 0.5 * erf(t)
  return 1 - 0.5 * erfc(t)
}

/** log Phi(x), accurate far in both tails. */
export const logNdtr = (x: number): number => {
  if (x > 6) return -ndtr(-x) // log(1 - e) = -e for tiny e
  if (x > -20) return Math.log(ndtr(x))
  // Asymptotic series: Phi(x) = phi(x)/(-x) * (1 - 1/x^2 + 3/x^4 - 15/x^6 ...).
  const lhs = -0.5 * x * x - Math.log(-x) - LOG_SQRT_2PI
  const inv2 = 1 / (x * x)
  let total = 1
  let last = 0
  let term = 1
  for (let i = 1; Math.abs(total - last) > Number.EPSILON && i < 100; i++) {
    last = total
    term *= -(2 * i - 1) * inv2
    total += term
  }
  return lhs + Math.log(total)
}

/** The standard normal's log density. */
export const normLogPdf = (x: number): number => -0.5 * x * x - LOG_SQRT_2PI

/** log(exp(a) + exp(b)) without overflow. */
export const logAddExp = (a: number, b: number): number => {
  const m = Math.max(a, b)
  if (m === -Infinity) return -Infinity
  return m + Math.log1p(Math.exp(-Math.abs(a - b)))
}

/** log(exp(p) - exp(q)) for p >= q. */
const logDiff = (p: number, q: number): number => p + Math.log1p(-Math.exp(q - p))

/** log of the standard normal's mass on [a, b] (a <= b), stable in both tails. */
export const logGaussMass = (a: number, b: number): number => {
  // The left tail is where log Phi is accurate: flip a right-tail interval.
  if (a > 0) {
    const t = a
    a = -b
    b = -t
  }
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a))
  // Around the centre, 1 - Phi(a) - Phi(-b) avoids cancellation as the mass nears 1; past 8.3
  // standard deviations a tail is below 1e-16 and is skipped (most kernels are far from a bound).
  return Math.log1p(-(a < -8.3 ? 0 : ndtr(a)) - (b > 8.3 ? 0 : ndtr(-b)))
}

// x such that log Phi(x) = y, for y < -log 2 (x < 0), by Newton from a tail or logistic guess.
const ndtriExpLeft = (y: number): number => {
  let x = y < -5 ? -Math.sqrt(-2 * (y + LOG_SQRT_2PI)) : -(Math.sqrt(3) / Math.PI) * Math.log(Math.exp(-y) - 1)
  for (let i = 0; i < 100; i++) {
    const lp = logNdtr(x)
    const dx = (lp - y) * Math.exp(lp - normLogPdf(x))
    x -= dx
    if (Math.abs(dx) < 1e-12 * Math.max(1, Math.abs(x)) || !Number.isFinite(x)) break
  }
  return x
}

/** The inverse of log Phi: x such that log Phi(x) = y (y <= 0). */
export const ndtriExp = (y: number): number => {
  if (y >= 0) return y === 0 ? Infinity : NaN
  if (y === -Infinity) return -Infinity
  if (y > -Math.LN2) {
    // Phi(x) > 1/2: solve on the mirror image, log Phi(-x) = log(1 - exp(y)).
    return -ndtriExpLeft(Math.log(-Math.expm1(y)))
  }
  return ndtriExpLeft(y)
}

/** The standard normal quantile function Phi^-1(p). */
export const ndtri = (p: number): number => (p <= 0 ? -Infinity : p >= 1 ? Infinity : ndtriExp(Math.log(p)))

/**
 * The quantile function of a standard normal truncated to [a, b]: the c with
 * (Phi(c) - Phi(a)) / (Phi(b) - Phi(a)) = q.
 */
export const truncnormPpf = (q: number, a: number, b: number): number => {
  if (q <= 0) return a
  if (q >= 1) return b
  const logMass = logGaussMass(a, b)
  if (a < 0) return Math.min(b, Math.max(a, ndtriExp(logAddExp(logNdtr(a), Math.log(q) + logMass))))
  // In the right tail, work on the mirror image so that log Phi stays accurate.
  return Math.min(b, Math.max(a, -ndtriExp(logAddExp(logNdtr(-b), Math.log1p(-q) + logMass))))
}

/** The CDF of a standard normal truncated to [a, b]. */
export const truncnormCdf = (x: number, a: number, b: number): number => {
  if (x <= a) return 0
  if (x >= b) return 1
  return Math.exp(logGaussMass(a, x) - logGaussMass(a, b))
}

/** The log density at x of a normal (loc, scale) truncated to [low, high]. */
export const truncnormLogPdf = (x: number, low: number, high: number, loc: number, scale: number): number => {
  if (x < low || x > high) return -Infinity
  const a = (low - loc) / scale
  const b = (high - loc) / scale
  return normLogPdf((x - loc) / scale) - logGaussMass(a, b) - Math.log(scale)
}
