import { fc, test } from "@fast-check/vitest"
import { Effect, Layer, Option } from "effect"
import { Matrix, CholeskyDecomposition } from "ml-matrix"
import { describe, expect, it } from "vitest"
import { Distribution, Rng, Sampler, SamplerUnsupported, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import * as Gp from "../src/Gp.js"
import * as Qmc from "../src/Qmc.js"
import * as Acq from "../src/internal/acquisition.js"
import * as GpModel from "../src/internal/gp.js"
import * as GpSampler from "../src/internal/gpSampler.js"
import * as Linalg from "../src/internal/linalg.js"

const services = (sampler: Sampler.SamplerService, seed = 1) =>
  Layer.mergeAll(Storage.layerMemory, Layer.succeed(Sampler.Sampler, sampler), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))

const run = <A, E>(e: Effect.Effect<A, E, Study.Services>, sampler: Sampler.SamplerService, seed = 1) =>
  Effect.runPromise(e.pipe(Effect.provide(services(sampler, seed))))

const hyper = (amplitude: number, lengthScales: ReadonlyArray<number>, noise: number): GpModel.Hyper => ({
  amplitude,
  lengthScales: Float64Array.from(lengthScales),
  noise
})

describe("GP posterior", () => {
  it("matches a hand-computed two-point case (RBF, l = 1, no noise)", () => {
    // K = [[1, c], [c, 1]], c = exp(-1/2); at x* = 0.5, k* = (e, e) with e = exp(-1/8).
    // mean = k*^T K^-1 y = e / (1 + c) for y = (1, 0); variance = 1 - 2 e^2 / (1 + c).
    const data: GpModel.Data = { x: Float64Array.from([0, 1]), y: Float64Array.from([1, 0]), n: 2, dims: 1 }
    const post = GpModel.posterior("rbf", data, hyper(1, [1], 1e-12))
    const c = Math.exp(-0.5)
    const e = Math.exp(-1 / 8)
    const p = post.predict([0.5])
    expect(p.mean).toBeCloseTo(e / (1 + c), 9)
    expect(p.variance).toBeCloseTo(1 - (2 * e * e) / (1 + c), 9)
    // At a training point the posterior interpolates with (almost) no variance.
    const at = post.predict([0])
    expect(at.mean).toBeCloseTo(1, 9)
    expect(at.variance).toBeLessThan(1e-9)
    // Far away it reverts to the prior.
    const far = post.predict([50])
    expect(far.mean).toBeCloseTo(0, 12)
    expect(far.variance).toBeCloseTo(1, 12)
  })

  for (const additive of [0, 0.7]) {
    it(`matches a dense reference solve with ml-matrix (Matern 5/2, ARD, noise${additive > 0 ? ", additive component" : ""})`, () => {
      const g = Rng.generator(3)
      const n = 12
      const dims = 3
      const x = Float64Array.from({ length: n * dims }, () => g.next())
      const y = Float64Array.from({ length: n }, () => g.normal())
      const h = { ...hyper(1.7, [0.3, 0.8, 2], 0.05), additive }
      const post = GpModel.posterior("matern52", { x, y, n, dims }, h)
      const matern = (r2: number) => {
        const r = Math.sqrt(r2)
        return (1 + Math.sqrt(5) * r + (5 / 3) * r2) * Math.exp(-Math.sqrt(5) * r)
      }
      // k(a, b) = amplitude g(r) + (additive / dims) sum_p g(r_p), straight from the definition.
      const k = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        let r2 = 0
        let sum = 0
        for (let p = 0; p < dims; p++) {
          const rp2 = ((a[p] - b[p]) / h.lengthScales[p]) ** 2
          r2 += rp2
          sum += matern(rp2)
        }
        return h.amplitude * matern(r2) + (additive / dims) * sum
      }
      const row = (i: number) => x.subarray(i * dims, (i + 1) * dims)
      const K = new Matrix(n, n)
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K.set(i, j, k(row(i), row(j)) + (i === j ? h.noise : 0))
      const chol = new CholeskyDecomposition(K)
      const q = [0.4, 0.1, 0.9]
      const ks = Matrix.columnVector(Array.from({ length: n }, (_, i) => k(q, row(i))))
      const alpha = chol.solve(Matrix.columnVector(Array.from(y)))
      const v = chol.solve(ks)
      const p = post.predict(q)
      expect(p.mean).toBeCloseTo(ks.transpose().mmul(alpha).get(0, 0), 9)
      expect(p.variance).toBeCloseTo(h.amplitude + additive - ks.transpose().mmul(v).get(0, 0), 9)
    })
  }

  it("recovers with jitter when the kernel matrix is singular (duplicate points, no noise)", () => {
    const data: GpModel.Data = { x: Float64Array.from([0.2, 0.2, 0.2, 0.7]), y: Float64Array.from([1, 1, 1, -1]), n: 4, dims: 1 }
    expect(Linalg.choleskyInPlace(new Float64Array([1, 1, 1, 1]), 2)).toBe(false)
    const post = GpModel.posterior("rbf", data, hyper(1, [0.5], 0))
    expect(post.jitter).toBeGreaterThan(0)
    expect(post.jitter).toBeLessThan(1e-3)
    const p = post.predict([0.2])
    expect(p.mean).toBeCloseTo(1, 4)
    expect(Number.isFinite(p.variance) && p.variance >= 0).toBe(true)
  })

  for (const [kind, additive] of [["rbf", false], ["matern52", false], ["rbf", true], ["matern52", true]] as const) {
    it(`${kind}${additive ? " with the additive component" : ""}: the marginal likelihood's analytic gradient matches finite differences`, () => {
      const g = Rng.generator(11)
      const n = 15
      const dims = 2
      const data: GpModel.Data = {
        x: Float64Array.from({ length: n * dims }, () => g.next()),
        y: Float64Array.from({ length: n }, () => g.normal()),
        n,
        dims
      }
      const theta = [Math.log(1.3), Math.log(0.4), Math.log(0.9), Math.log(0.02), ...(additive ? [Math.log(0.5)] : [])]
      const { g: grad } = GpModel.negLogPosterior(kind, data, theta)
      for (let i = 0; i < theta.length; i++) {
        const e = 1e-5
        const up = [...theta]
        const dn = [...theta]
        up[i] += e
        dn[i] -= e
        const fd = (GpModel.negLogPosterior(kind, data, up).f - GpModel.negLogPosterior(kind, data, dn).f) / (2 * e)
        expect(grad[i]).toBeCloseTo(fd, 4)
      }
    })
  }

  it("fitting recovers a long length scale for an irrelevant dimension", () => {
    const g = Rng.generator(5)
    const n = 40
    const x = Float64Array.from({ length: n * 2 }, () => g.next())
    const raw = Array.from({ length: n }, (_, i) => Math.sin(6 * x[i * 2]))
    const m = raw.reduce((a, b) => a + b) / n
    const sd = Math.sqrt(raw.reduce((a, b) => a + (b - m) ** 2, 0) / n)
    const y = Float64Array.from(raw, (v) => (v - m) / sd)
    const h = GpModel.fit("matern52", { x, y, n, dims: 2 }, Rng.generator(1))
    expect(h.lengthScales[1]).toBeGreaterThan(3 * h.lengthScales[0])
    expect(h.noise).toBeLessThan(1e-2)
  })

  it("prefers a mostly additive fit by leave-one-out likelihood where the marginal likelihood keeps the full kernel", () => {
    // Styblinski-Tang in 8 dimensions, 40 random points: a sum of one-dimensional quartics whose
    // walls dominate the values, so that the marginal likelihood favours the full kernel.
    const dims = 8
    const n = 40
    const g = Rng.generator(40)
    const f = (u: ArrayLike<number>) => Array.from(u).reduce((a, v) => a + ((10 * v - 5) ** 4 - 16 * (10 * v - 5) ** 2 + 5 * (10 * v - 5)) / 2, 0)
    const x = Float64Array.from({ length: n * dims }, () => g.next())
    const raw = Array.from({ length: n }, (_, i) => -f(x.subarray(i * dims, (i + 1) * dims)))
    const m = raw.reduce((a, b) => a + b) / n
    const sd = Math.sqrt(raw.reduce((a, b) => a + (b - m) ** 2, 0) / n)
    const data: GpModel.Data = { x, y: Float64Array.from(raw, (v) => (v - m) / sd), n, dims }
    const full = GpModel.fit("matern52", data, Rng.generator(1))
    const chosen = GpModel.fit("matern52", data, Rng.generator(1), { additive: true })
    expect(chosen.amplitude).toBeCloseTo(1e-2, 6)
    expect(chosen.additive!).toBeGreaterThan(1)
    expect(GpModel.looLogLikelihood("matern52", data, chosen)).toBeGreaterThan(GpModel.looLogLikelihood("matern52", data, full))
    expect(GpModel.negLogPosterior("matern52", data, GpModel.toTheta(chosen)).f).toBeGreaterThan(GpModel.negLogPosterior("matern52", data, GpModel.toTheta(full)).f)
  })

  it("leave-one-out likelihood in closed form equals refitting without each point in turn", () => {
    const g = Rng.generator(8)
    const n = 10
    const dims = 2
    const x = Float64Array.from({ length: n * dims }, () => g.next())
    const y = Float64Array.from({ length: n }, () => g.normal())
    const h = { ...hyper(1.2, [0.4, 0.7], 0.03), additive: 0.5 }
    let brute = 0
    for (let i = 0; i < n; i++) {
      const keep = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i)
      const rest: GpModel.Data = {
        x: Float64Array.from(keep.flatMap((j) => Array.from(x.subarray(j * dims, (j + 1) * dims)))),
        y: Float64Array.from(keep, (j) => y[j]),
        n: n - 1,
        dims
      }
      // The predictive density of the noisy observation: the latent variance plus the noise.
      const p = GpModel.posterior("matern52", rest, h).predict(x.subarray(i * dims, (i + 1) * dims))
      const v = p.variance + h.noise
      brute += -0.5 * Math.log(2 * Math.PI * v) - (y[i] - p.mean) ** 2 / (2 * v)
    }
    expect(GpModel.looLogLikelihood("matern52", { x, y, n, dims }, h)).toBeCloseTo(brute, 8)
  })

  it("weights the additive component on an additive objective, and predicts it better than the full kernel alone", () => {
    // A sum of one-dimensional effects in 8 dimensions (Duvenaud et al. 2011's case for additive kernels).
    const dims = 8
    const n = 40
    const g = Rng.generator(40)
    const f = (u: ArrayLike<number>) => Array.from(u).reduce((a, v) => a + Math.sin(6 * v), 0)
    const x = Float64Array.from({ length: n * dims }, () => g.next())
    const raw = Array.from({ length: n }, (_, i) => f(x.subarray(i * dims, (i + 1) * dims)))
    const m = raw.reduce((a, b) => a + b) / n
    const sd = Math.sqrt(raw.reduce((a, b) => a + (b - m) ** 2, 0) / n)
    const data: GpModel.Data = { x, y: Float64Array.from(raw, (v) => (v - m) / sd), n, dims }
    const tests = Array.from({ length: 200 }, () => Float64Array.from({ length: dims }, () => g.next()))
    const rmse = (h: GpModel.Hyper) => {
      const post = GpModel.posterior("matern52", data, h)
      return Math.sqrt(tests.reduce((a, t) => a + (post.predict(t).mean - (f(t) - m) / sd) ** 2, 0) / tests.length)
    }
    const full = GpModel.fit("matern52", data, Rng.generator(1))
    const additive = GpModel.fit("matern52", data, Rng.generator(1), { additive: true })
    expect(full.additive ?? 0).toBe(0)
    expect(additive.additive!).toBeGreaterThan(10 * additive.amplitude)
    expect(rmse(additive)).toBeLessThan(0.5 * rmse(full))
  })
})


describe("output warp", () => {
  test.prop([fc.array(fc.integer({ min: 0, max: 10_000_000 }).map((k) => k / 7), { minLength: 8, maxLength: 40 })])(
    "is monotone (keeps the order of every pair, hence the best trial) and applies only to right-skewed losses",
    (losses) => {
      const raw = Float64Array.from(losses, (l) => -l)
      const before = Array.from(raw)
      const applied = GpSampler.warpInPlace(raw)
      const n = losses.length
      const m = losses.reduce((a, b) => a + b, 0) / n
      const m2 = losses.reduce((a, b) => a + (b - m) ** 2, 0) / n
      const m3 = losses.reduce((a, b) => a + (b - m) ** 3, 0) / n
      expect(applied).toBe(m2 > 0 && m3 / m2 ** 1.5 > 1)
      if (!applied) expect(Array.from(raw)).toEqual(before)
      for (let i = 0; i < n; i++) {
        expect(Number.isFinite(raw[i])).toBe(true)
        for (let j = 0; j < n; j++) if (before[i] > before[j]) expect(raw[i]).toBeGreaterThanOrEqual(raw[j])
      }
    }
  )

  it("compresses a Rosenbrock-like spread of orders of magnitude", () => {
    const raw = Float64Array.from([1, 2, 5, 10, 100, 1e3, 1e4, 1e5, 1e6], (l) => -l)
    expect(GpSampler.warpInPlace(raw)).toBe(true)
    expect(raw[0] - raw[8]).toBeLessThan(20)
  })
})

describe("acquisition functions", () => {
  const phi0 = 1 / Math.sqrt(2 * Math.PI)
  it("normal distribution function and density at known points", () => {
    expect(Acq.normalCdf(0)).toBeCloseTo(0.5, 7)
    expect(Acq.normalCdf(1)).toBeCloseTo(0.8413447460685429, 7)
    expect(Acq.normalCdf(-1.959963984540054)).toBeCloseTo(0.025, 7)
    expect(Acq.normalPdf(0)).toBeCloseTo(phi0, 14)
    expect(Acq.logNormalCdf(-10)).toBeCloseTo(Math.log(7.61985302416047e-24), 5)
  })

  it("EI, PI and UCB closed forms at known values", () => {
    // mu = best: EI = sigma phi(0), PI = 1/2.
    expect(Acq.expectedImprovement(1, 2, 1)).toBeCloseTo(2 * phi0, 7)
    expect(Acq.probabilityOfImprovement(1, 2, 1)).toBeCloseTo(0.5, 7)
    // z = 1: EI = sigma (Phi(1) + phi(1)) = 0.5 * (0.841344746 + 0.241970725).
    expect(Acq.expectedImprovement(1.5, 0.5, 1)).toBeCloseTo(0.5 * (0.8413447460685429 + 0.24197072451914337), 7)
    expect(Acq.probabilityOfImprovement(1.5, 0.5, 1)).toBeCloseTo(0.8413447460685429, 7)
    // xi shifts the incumbent.
    expect(Acq.expectedImprovement(1.5, 0.5, 0.5, 0.5)).toBeCloseTo(Acq.expectedImprovement(1.5, 0.5, 1), 12)
    expect(Acq.upperConfidenceBound(0.3, 0.2, 2)).toBeCloseTo(0.7, 12)
    // No uncertainty: EI is the plain improvement.
    expect(Acq.expectedImprovement(3, 0, 1)).toBe(2)
    expect(Acq.expectedImprovement(0, 0, 1)).toBe(0)
  })

  test.prop([fc.double({ min: -6, max: 8, noNaN: true }), fc.double({ min: 1e-3, max: 10, noNaN: true })])(
    "log EI agrees with log(EI) where the direct form is accurate",
    (z, sigma) => {
      const ei = Acq.expectedImprovement(z * sigma, sigma, 0)
      fc.pre(ei > 1e-250)
      expect(Acq.logExpectedImprovement(z * sigma, sigma, 0)).toBeCloseTo(Math.log(ei), 4)
    }
  )

  it("log EI is finite, accurate and increasing far below the incumbent, where EI underflows", () => {
    // Asymptotic series of h(z) = phi(z) / z^2 (1 - 3/z^2 + 15/z^4 - 105/z^6 + 945/z^8) for z -> -inf.
    const asymptotic = (z: number) =>
      -0.5 * z * z - 0.5 * Math.log(2 * Math.PI) - 2 * Math.log(-z) + Math.log(1 - 3 / z ** 2 + 15 / z ** 4 - 105 / z ** 6 + 945 / z ** 8)
    for (const z of [-10, -20, -40, -100]) expect(Acq.logH(z)).toBeCloseTo(asymptotic(z), 5)
    expect(Acq.expectedImprovement(-60, 1, 0)).toBe(0)
    let prev = -Infinity
    for (let z = -1e4; z < 5; z = z < -50 ? z / 1.5 : z + 0.5) {
      const v = Acq.logH(z)
      expect(Number.isFinite(v)).toBe(true)
      expect(v).toBeGreaterThan(prev)
      prev = v
    }
  })
})

const branin = Space.struct({ x1: Space.float(-5, 10), x2: Space.float(0, 15) })
const braninF = ({ x1, x2 }: { x1: number; x2: number }) =>
  (x2 - (5.1 / (4 * Math.PI ** 2)) * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10

const mixed = Space.struct({
  lr: Space.float(1e-5, 1e-1, { log: true }),
  layers: Space.int(1, 6),
  units: Space.int(8, 512, { log: true }),
  drop: Space.float(0, 0.5, { step: 0.05 }),
  act: Space.categorical(["relu", "tanh", "gelu"]),
  opt: Space.branch({ sgd: Space.struct({ m: Space.float(0, 0.99) }), adam: Space.struct({ b1: Space.float(0.8, 0.999) }) })
})
const mixedF = (c: Space.Type<typeof mixed>) =>
  (Math.log10(c.lr) + 3) ** 2 + (c.layers - 3) ** 2 * 0.1 + (Math.log2(c.units) - 7) ** 2 * 0.1 + (c.drop - 0.2) ** 2 +
  (c.act === "gelu" ? 0 : 0.5) + (c.opt._tag === "adam" ? (c.opt.b1 - 0.9) ** 2 : 0.3 + (c.opt.m - 0.9) ** 2)

describe("Gp sampler", () => {
  it("beats random search on Branin over 5 seeds (30 trials)", async () => {
    const best = (sampler: Sampler.SamplerService, seed: number) =>
      run(Study.optimize({ study: "b", space: branin, objective: braninF, trials: 30 }), sampler, seed).then((r) => Option.getOrThrow(r.best).values![0])
    const gp: Array<number> = []
    const rnd: Array<number> = []
    for (let seed = 1; seed <= 5; seed++) {
      gp.push(await best(Gp.make(), seed))
      rnd.push(await best(Sampler.random, seed))
    }
    const med = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[2]
    expect(med(gp)).toBeLessThan(0.5)
    expect(med(gp)).toBeLessThan(med(rnd) / 2)
  })

  it("keeps ints, steps, log ints and categoricals on their grids, and handles conditional parameters", async () => {
    const r = await run(Study.optimize({ study: "m", space: mixed, objective: mixedF, trials: 30 }), Gp.make({ nStartupTrials: 8 }), 4)
    const compiled = Space.compile(mixed)
    for (const t of r.trials) {
      expect(t.state).toBe("Complete")
      for (const [k, v] of Object.entries(t.params)) expect(Distribution.contains(compiled.params.get(k)!, v), `${k}=${v}`).toBe(true)
    }
    const values = r.trials.map((t) => t.values![0])
    expect(Math.min(...values.slice(15))).toBeLessThan(Math.min(...values.slice(0, 8)))
  })

  it("starts with its initial design: a Latin hypercube over the startup trials (default), or Sobol' points by trial number", async () => {
    const sobol = await run(Study.optimize({ study: "s", space: branin, objective: braninF, trials: 8 }), Gp.make({ nStartupTrials: 8, initialDesign: "sobol" }), 5)
    const seq = Qmc.sequence({ kind: "sobol", generator: (dim, block = 0) => Rng.generator(5, "s", "qmc", "sobol", dim, block) })
    const compiled = Space.compile(branin)
    for (const t of sobol.trials) {
      expect(t.params.x1).toBe(Distribution.fromUnit(compiled.params.get("x1")!, seq.coordinate(t.number, 0)))
      expect(t.params.x2).toBe(Distribution.fromUnit(compiled.params.get("x2")!, seq.coordinate(t.number, 1)))
    }
    const lhs = await run(Study.optimize({ study: "l", space: branin, objective: braninF, trials: 12 }), Gp.make({ nStartupTrials: 12 }), 5)
    for (const k of ["x1", "x2"]) {
      const strata = lhs.trials.map((t) => Math.floor(Distribution.toUnit(compiled.params.get(k)!, t.params[k]) * 12))
      expect(new Set(strata).size).toBe(12)
    }
  })

  it("is reproducible: the same seed gives the same suggestions, another seed others", async () => {
    const params = (seed: number) =>
      run(Study.optimize({ study: "r", space: branin, objective: braninF, trials: 14 }), Gp.make({ nStartupTrials: 5, candidates: 256 }), seed).then((r) =>
        r.trials.map((t) => t.params)
      )
    const [a, b, c] = await Promise.all([params(3), params(3), params(4)])
    expect(a).toEqual(b)
    expect(a.slice(5)).not.toEqual(c.slice(5))
  })

  for (const liar of ["believer", "min", "max", "mean"] as const) {
    it(`spreads parallel suggestions (${liar}): 4 workers never propose the same point`, async () => {
      const r = await run(
        Study.optimize({
          study: "p",
          space: branin,
          objective: (c) => Effect.sleep("2 millis").pipe(Effect.as(braninF(c))),
          trials: 24,
          concurrency: 4
        }),
        Gp.make({ nStartupTrials: 6, liar, candidates: 256 }),
        2
      )
      const keys = r.trials.map((t) => `${t.params.x1.toFixed(6)},${t.params.x2.toFixed(6)}`)
      expect(new Set(keys).size).toBe(24)
    })
  }

  it("moves away from a running trial's point: kriging believer and constant liars", () => {
    const d = Distribution.float("x", 0, 1)
    const study = { id: 1, name: "s", directions: ["minimize"] as const, metrics: [], userAttrs: {}, systemAttrs: {}, createdAt: 0 }
    const trial = (number: number, x: number, y: number, state: "Complete" | "Running", value?: number) => ({
      id: number, number, state, params: { x, y }, distributions: { x: d, y: d }, values: value === undefined ? undefined : [value],
      intermediate: [], userAttrs: {}, systemAttrs: {}, startedAt: 0, finishedAt: 0, worker: undefined, reason: undefined
    })
    const g = Rng.generator(9)
    const f = (x: number, y: number) => (x - 0.3) ** 2 + (y - 0.6) ** 2
    const done = Array.from({ length: 12 }, (_, i) => {
      const [x, y] = [g.next(), g.next()]
      return trial(i, x, y, "Complete", f(x, y))
    })
    const ctxOf = (history: ReadonlyArray<ReturnType<typeof trial>>): Sampler.SampleContext => ({
      study, trialNumber: 20, rng: Rng.generator(1, "t"), derive: (...k) => Rng.generator(1, ...k), history, space: undefined
    })
    for (const liar of ["believer", "min", "mean"] as const) {
      const gp = Gp.make({ nStartupTrials: 5, liar, exploreXi: 0 })
      const alone = gp.sampleRelative!(ctxOf(done), gp.inferRelativeSpace!(ctxOf(done))).params
      const busy = [...done, trial(12, alone.x, alone.y, "Running")]
      const next = gp.sampleRelative!(ctxOf(busy), gp.inferRelativeSpace!(ctxOf(busy))).params
      expect(Math.hypot(next.x - alone.x, next.y - alone.y), liar).toBeGreaterThan(1e-3)
      // Without the running trial the suggestion is a pure function of the history and the generator.
      expect(gp.sampleRelative!(ctxOf(done), gp.inferRelativeSpace!(ctxOf(done))).params).toEqual(alone)
    }
  })

  it("models the parameters every completed trial shares (the intersection space)", () => {
    const f = Distribution.float("a", 0, 1)
    const other = Distribution.float("a", 0, 2)
    const single = Distribution.categorical("s", ["only"])
    const mk = (number: number, params: Record<string, number>, dists: Record<string, Distribution.Distribution>, state: "Complete" | "Failed" = "Complete") => ({
      id: number, number, state, params, distributions: dists, values: state === "Complete" ? [0] : undefined,
      intermediate: [], userAttrs: {}, systemAttrs: {}, startedAt: 0, finishedAt: 0, worker: undefined, reason: undefined
    })
    const history = [
      mk(0, { a: 0.1, b: 0.2, s: 0, c: 0.5 }, { a: f, b: f, s: single, c: f }),
      mk(1, { a: 0.3, b: 0.4, s: 0 }, { a: f, b: f, s: single }),
      mk(2, { a: 0.3 }, { a: other }, "Failed"),
      mk(3, { z: 0.5, a: 0.2, b: 0.9, s: 0 }, { z: f, a: f, b: f, s: single })
    ]
    const ctx = { history, space: undefined } as unknown as Sampler.SampleContext
    expect([...Gp.intersectionSpace(ctx).keys()]).toEqual(["a", "b"])
  })

  it("works define-by-run, and with every acquisition and kernel", async () => {
    for (const [acquisition, kernel] of [["ei", "rbf"], ["pi", "matern52"], ["ucb", "rbf"], ["logei", "matern52"]] as const) {
      // The median of three seeds: 20 trials leave one unlucky seed in a dozen above the bound.
      const bests: Array<number> = []
      for (const seed of [1, 2, 3]) {
        const r = await run(
          Study.optimize({
            study: "d",
            objective: (_: unknown, t) => braninF({ x1: t.suggestFloat("x1", -5, 10), x2: t.suggestFloat("x2", 0, 15) }),
            trials: 20
          }),
          Gp.make({ acquisition, kernel, nStartupTrials: 6, candidates: 256 }),
          seed
        )
        bests.push(Option.getOrThrow(r.best).values![0])
      }
      expect(bests.sort((a, b) => a - b)[1], `${acquisition}/${kernel}`).toBeLessThan(5)
    }
  })

  it("refuses several objectives and bad options when the study starts", async () => {
    const e1 = await run(
      Effect.flip(Study.optimize({ study: "mo", space: branin, directions: ["minimize", "maximize"], objective: (c) => [c.x1, c.x2], trials: 3 })),
      Gp.make()
    )
    expect(e1).toBeInstanceOf(SamplerUnsupported)
    expect(e1.message).toContain("one objective")
    const e2 = await run(
      Effect.flip(Study.optimize({ study: "o", space: branin, objective: braninF, trials: 3 })),
      Gp.make({ acquisition: "foo" as never, nStartupTrials: 1, kappa: -1 })
    )
    expect(e2).toBeInstanceOf(SamplerUnsupported)
    // the first problem, naming its field (options.test.ts checks every field)
    expect(e2.message).toBe("gp sampler: acquisition: expected one of \"logei\", \"ei\", \"pi\", \"ucb\", got \"foo\"")
  })

  it("maximizes when the study maximizes", async () => {
    const r = await run(
      Study.optimize({ study: "max", space: branin, direction: "maximize", objective: (c) => -braninF(c), trials: 25 }),
      Gp.make({ candidates: 256 })
    )
    expect(Option.getOrThrow(r.best).values![0]).toBeGreaterThan(-1)
  })
})
