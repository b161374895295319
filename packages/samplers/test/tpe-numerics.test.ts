// Known values: SciPy's special.erf/erfc/ndtr/log_ndtr/ndtri and stats.truncnorm, and closed forms.
import { Distribution, Rng } from "@tunekit/core"
import { describe, expect, it } from "vitest"
import * as Parzen from "../src/internal/parzen.js"
import * as T from "../src/internal/parzenTruncnorm.js"

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)

// The Gaussian mass on [a, b] by Simpson's rule: independent of the erf under test.
const simpsonMass = (a: number, b: number, n = 20000) => {
  const h = (b - a) / n
  const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)
  let s = phi(a) + phi(b)
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * phi(a + i * h)
  return (s * h) / 3
}

describe("normal and truncated-normal functions", () => {
  it("erf and erfc match SciPy", () => {
    const cases: Array<[number, number, number]> = [
      // x, erf(x), erfc(x)
      [0.1, 0.1124629160182849, 0.8875370839817151],
      [0.5, 0.5204998778130465, 0.4795001221869535],
      [1, 0.8427007929497149, 0.15729920705028513],
      [2, 0.9953222650189527, 0.004677734981047266],
      [3, 0.9999779095030014, 2.209049699858544e-05],
      [5, 0.9999999999984626, 1.5374597944280349e-12],
      [-1, -0.8427007929497149, 1.8427007929497148]
    ]
    for (const [x, e, ec] of cases) {
      expect(rel(T.erf(x), e)).toBeLessThan(1e-14)
      expect(rel(T.erfc(x), ec)).toBeLessThan(1e-13)
    }
    expect(rel(T.erfc(10), 2.088487583762545e-45)).toBeLessThan(1e-13)
  })

  it("Phi, log Phi and the quantile function match SciPy, far into the tails", () => {
    expect(rel(T.ndtr(1), 0.8413447460685429)).toBeLessThan(1e-15)
    expect(rel(T.ndtr(-3), 0.0013498980316301035)).toBeLessThan(1e-14)
    expect(rel(T.logNdtr(-10), -53.23128515051247)).toBeLessThan(1e-14)
    expect(rel(T.logNdtr(-40), -804.6084420137538)).toBeLessThan(1e-14)
    expect(rel(T.logNdtr(3), -0.0013508099647481938)).toBeLessThan(1e-12)
    expect(rel(T.logNdtr(10), -7.619853024160525e-24)).toBeLessThan(1e-10)
    expect(rel(T.ndtri(0.975), 1.959963984540054)).toBeLessThan(1e-13)
    expect(rel(T.ndtri(0.1), -1.2815515655446004)).toBeLessThan(1e-13)
    // Deep in the tail, where Phi(x) = 1e-300: log Phi of the answer is log 1e-300 (log Phi there is the asymptotic series).
    const deep = T.ndtri(1e-300)
    expect(deep).toBeCloseTo(-37.0471, 4)
    expect(rel(T.logNdtr(deep), Math.log(1e-300))).toBeLessThan(1e-14)
    expect(T.ndtri(0.5)).toBeCloseTo(0, 14)
  })

  it("the log of a Gaussian mass agrees with numerical integration, in the centre and in both tails", () => {
    for (const [a, b] of [[-1, 1], [-0.3, 2.5], [2, 3], [-3, -2], [-8, 8]]) {
      expect(rel(Math.exp(T.logGaussMass(a, b)), simpsonMass(a, b))).toBeLessThan(1e-9)
    }
    // Far tails: the mass underflows, its log does not. Mills ratio: Phi(-x) ~ phi(x)/x (1 - 1/x^2 + 3/x^4).
    const x = 40
    const mills = -0.5 * x * x - Math.log(x) - 0.5 * Math.log(2 * Math.PI) + Math.log(1 - 1 / x ** 2 + 3 / x ** 4)
    expect(rel(T.logGaussMass(x, Infinity), mills)).toBeLessThan(1e-6)
    expect(rel(T.logGaussMass(-Infinity, -x), mills)).toBeLessThan(1e-6)
  })

  it("the truncated normal's pdf, cdf and ppf match closed forms and invert each other", () => {
    // pdf of N(0,1) truncated to [-1, 1] at 0: phi(0) / (2 Phi(1) - 1)
    expect(rel(Math.exp(T.truncnormLogPdf(0, -1, 1, 0, 1)), 0.3989422804014327 / 0.6826894921370859)).toBeLessThan(1e-14)
    // Scaled and shifted: N(2, 0.5) on [1, 4] at 2.5
    const z = (2.5 - 2) / 0.5
    const expected = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI) / 0.5 / simpsonMass((1 - 2) / 0.5, (4 - 2) / 0.5)
    expect(rel(Math.exp(T.truncnormLogPdf(2.5, 1, 4, 2, 0.5)), expected)).toBeLessThan(1e-9)
    expect(T.truncnormLogPdf(4.1, 1, 4, 2, 0.5)).toBe(-Infinity)
    // Half-normal: median Phi^-1(0.75), cdf(1) = 2 Phi(1) - 1
    expect(rel(T.truncnormPpf(0.5, 0, Infinity), 0.6744897501960817)).toBeLessThan(1e-13)
    expect(rel(T.truncnormCdf(1, 0, Infinity), 0.6826894921370859)).toBeLessThan(1e-13)
    expect(T.truncnormPpf(0.5, -1, 1)).toBeCloseTo(0, 14)
    expect(T.truncnormPpf(0, -1, 1)).toBe(-1)
    expect(T.truncnormPpf(1, -1, 1)).toBe(1)
    // Far in a tail the truncated normal is nearly exponential with rate a: median ~ a + ln 2 / a.
    expect(T.truncnormPpf(0.5, 30, Infinity)).toBeCloseTo(30 + Math.LN2 / 30, 3)
    for (const [a, b] of [[5, 6], [-30, -29], [-2, 0.5], [20, 40]]) {
      for (const q of [0.01, 0.3, 0.5, 0.9, 0.999]) {
        const x = T.truncnormPpf(q, a, b)
        expect(x).toBeGreaterThanOrEqual(a)
        expect(x).toBeLessThanOrEqual(b)
        expect(T.truncnormCdf(x, a, b)).toBeCloseTo(q, 9)
      }
    }
  })
})

const opts: Parzen.ParzenOptions = { considerPrior: true, priorWeight: 1, considerMagicClip: true, considerEndpoints: false, multivariate: false, bandwidth: 0.2, spread: 0, spreadFloor: 0 }

describe("Parzen estimators", () => {
  it("univariate bandwidths: neighbour gaps, the prior's range, and the magic clip", () => {
    const spec = Parzen.specOf("x", Distribution.float("x", 0, 10))
    // Observations 1, 2, 6 and the prior at 5: sorted 1, 2, 5, 6 with ends 0 and 10.
    const est = Parzen.build([spec], [[1, 2, 6]], [1, 1, 1], opts)
    const dim = est.dims[0] as unknown as { mus: Float64Array; sigmas: Float64Array }
    expect([...dim.mus]).toEqual([1, 2, 6, 5])
    // 1: first without endpoints -> gap to 2 = 1 -> clipped up to 10/5 = 2; 2: max(1, 3) = 3;
    // 6: last without endpoints -> gap to 5 = 1 -> 2; prior: the range, 10.
    expect([...dim.sigmas]).toEqual([2, 3, 2, 10])
    expect([...est.weights]).toEqual([0.25, 0.25, 0.25, 0.25])
    const ends = Parzen.build([spec], [[1, 2, 6]], [1, 1, 1], { ...opts, considerEndpoints: true })
    // With endpoints 1 has neighbours 0 and 2 (gap 1) -> clip 2; 6 has 5 and 10 -> 4.
    expect([...(ends.dims[0] as unknown as { sigmas: Float64Array }).sigmas]).toEqual([2, 3, 4, 10])
  })

  it("multivariate bandwidths follow 0.2 n^(-1/(d+4)) of each range, above the magic clip", () => {
    const sx = Parzen.specOf("x", Distribution.float("x", 0, 10))
    const sy = Parzen.specOf("y", Distribution.float("y", -1, 1))
    const obs = [[1, 2, 3, 4], [0, 0.5, -0.5, 0.2]]
    const clipped = Parzen.build([sx, sy], obs, [1, 1, 1, 1], { ...opts, multivariate: true })
    // With 4 observations and the prior the clip is range / 6, above 0.2 * 4^(-1/6) = 0.159 of the range.
    expect((clipped.dims[0] as unknown as { sigmas: Float64Array }).sigmas[0]).toBeCloseTo(10 / 6, 12)
    const est = Parzen.build([sx, sy], obs, [1, 1, 1, 1], { ...opts, multivariate: true, considerMagicClip: false })
    const sig = (j: number) => [...(est.dims[j] as unknown as { sigmas: Float64Array }).sigmas]
    const f = 0.2 * 4 ** (-1 / 6)
    expect(sig(0).slice(0, 4).every((s) => Math.abs(s - 10 * f) < 1e-12)).toBe(true)
    expect(sig(1).slice(0, 4).every((s) => Math.abs(s - 2 * f) < 1e-12)).toBe(true)
  })

  it("the adaptive rule scales multivariate bandwidths by the observations' spread, within [floor, 1] of the range", () => {
    const sx = Parzen.specOf("x", Distribution.float("x", 0, 1))
    const o = { ...opts, multivariate: true, considerMagicClip: false, bandwidth: 0.1, spread: 4, spreadFloor: 0.5 }
    const sigma = (obs: Array<number>) => (Parzen.build([sx], [obs], obs.map(() => 1), o).dims[0] as unknown as { sigmas: Float64Array }).sigmas[0]
    const std = Math.sqrt(((0.4 - 0.5) ** 2 + (0.6 - 0.5) ** 2) / 1)
    expect(sigma([0.4, 0.6])).toBeCloseTo(0.1 * 2 ** (-1 / 5) * 4 * std, 12)
    // Tightly gathered: held at half the range; widely spread: at most the range.
    expect(sigma([0.5, 0.51])).toBeCloseTo(0.1 * 2 ** (-1 / 5) * 0.5, 12)
    expect(sigma([0, 1])).toBeCloseTo(0.1 * 2 ** (-1 / 5) * 1, 12)
    // The clip count can be set apart from the kernel count.
    const clipped = Parzen.build([sx], [[0.5, 0.51]], [1, 1], { ...o, considerMagicClip: true, clipCount: 9 })
    expect((clipped.dims[0] as unknown as { sigmas: Float64Array }).sigmas[0]).toBeCloseTo(1 / 10, 12)
  })

  it("the density is the weighted sum of truncated-normal kernels and integrates to 1", () => {
    const spec = Parzen.specOf("x", Distribution.float("x", 0, 1))
    // One observation at 0.3 (sigma: gap 0.2 to the prior, clipped up to 1/3) and the prior N(0.5, 1).
    const est = Parzen.build([spec], [[0.3]], [1], opts)
    const kernel = (x: number, mu: number, s: number) =>
      Math.exp(-0.5 * ((x - mu) / s) ** 2) / (s * Math.sqrt(2 * Math.PI)) / simpsonMass((0 - mu) / s, (1 - mu) / s)
    for (const x of [0, 0.1, 0.3, 0.77, 1]) {
      const expected = 0.5 * kernel(x, 0.3, 1 / 3) + 0.5 * kernel(x, 0.5, 1)
      expect(rel(Math.exp(Parzen.logPdf(est, [[x]], 1)[0]), expected)).toBeLessThan(1e-9)
    }
    const n = 2000
    const xs = Array.from({ length: n + 1 }, (_, i) => i / n)
    const ps = Parzen.logPdf(est, [xs], xs.length).map(Math.exp)
    let integral = 0
    for (let i = 0; i < n; i++) integral += (ps[i] + ps[i + 1]) / 2 / n
    expect(integral).toBeCloseTo(1, 6)
  })

  it("grids and categoricals get probability masses that sum to 1", () => {
    const si = Parzen.specOf("i", Distribution.int("i", 1, 6))
    const est = Parzen.build([si], [[2, 2, 5]], [1, 1, 1], opts)
    const grid = [1, 2, 3, 4, 5, 6]
    const masses = Parzen.logPdf(est, [grid], 6).map(Math.exp)
    expect(masses.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    expect(masses[1]).toBeGreaterThan(masses[3])

    const sc = Parzen.specOf("c", Distribution.categorical("c", ["a", "b", "c"]))
    const ec = Parzen.build([sc], [[0, 0, 2]], [1, 1, 1], opts)
    // Kernel rows: prior weight 1/4 spread on 3 choices, plus 1 on the observed choice; the prior row is uniform.
    const row = (obs: number) => [0, 1, 2].map((c) => (0.25 + (c === obs ? 1 : 0)) / 1.75)
    const expected = [0, 1, 2].map((c) => (row(0)[c] + row(0)[c] + row(2)[c] + 1 / 3) / 4)
    const got = Parzen.logPdf(ec, [[0, 1, 2]], 3).map(Math.exp)
    for (let c = 0; c < 3; c++) expect(got[c]).toBeCloseTo(expected[c], 12)
  })

  it("samples inside the bounds, on the grid, with the kernels' mean", () => {
    const g = Rng.generator(3)
    const spec = Parzen.specOf("x", Distribution.float("x", 0, 1))
    const est = Parzen.build([spec], [], [], opts) // the prior alone: N(0.5, 1) on [0, 1]
    const xs = Parzen.sample(est, g, 20000)[0]
    expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true)
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 2)
    // A single narrow kernel at 0.1 (sigma 1/2 of the range clipped...): check the truncated mean formula.
    const narrow = Parzen.build([spec], [[0.1]], [1], { ...opts, considerPrior: false, considerMagicClip: false })
    const d = narrow.dims[0] as unknown as { mus: Float64Array; sigmas: Float64Array }
    const s = d.sigmas[0]
    const a = (0 - 0.1) / s
    const b = (1 - 0.1) / s
    const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)
    const mean = 0.1 + (s * (phi(a) - phi(b))) / simpsonMass(a, b)
    const ys = Parzen.sample(narrow, g, 40000)[0]
    expect(ys.reduce((x, y) => x + y, 0) / ys.length).toBeCloseTo(mean, 2)
    const si = Parzen.specOf("i", Distribution.int("i", 0, 20, { step: 4 }))
    const is = Parzen.sample(Parzen.build([si], [[8]], [1], opts), g, 500)[0]
    expect([...is].every((v) => [0, 4, 8, 12, 16, 20].includes(v))).toBe(true)
  })
})
