import { Effect, Either, Layer } from "effect"
import { Distribution, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as CmaEs from "../src/CmaEs.js"
import * as Nsga2 from "../src/Nsga2.js"
import * as Cma from "../src/internal/cma.js"
import { dimOf } from "../src/internal/cmaSpace.js"

const servicesWith = (sampler: Layer.Layer<Sampler.Sampler>, seed: number, storage: Layer.Layer<Storage.Storage, any> = Storage.layerMemory) =>
  Layer.mergeAll(storage, sampler, Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const sphereSpace = Space.struct({
  a: Space.float(-5, 5),
  b: Space.float(-5, 5),
  c: Space.float(-5, 5),
  d: Space.float(-5, 5),
  e: Space.float(-5, 5)
})
const sphere = (c: Space.Type<typeof sphereSpace>) => (c.a - 1) ** 2 + (c.b - 1) ** 2 + (c.c + 2) ** 2 + (c.d - 3) ** 2 + c.e ** 2

describe("CMA-ES numerics (Hansen 2016)", () => {
  it("default strategy parameters for n = 2 match the tutorial's formulas", () => {
    const p = Cma.params(2, Cma.defaultLambda(2))
    expect(p.lambda).toBe(6) // 4 + floor(3 ln 2)
    expect(p.mu).toBe(3)
    // w'_i = ln(3.5) - ln(i): 1.2528, 0.5596, 0.1542; normalized by their sum 1.9666.
    expect([...p.weights].map((w) => +w.toFixed(4))).toEqual([0.637, 0.2846, 0.0784])
    expect(p.mueff).toBeCloseTo(2.0286, 3)
    expect(p.chiN).toBeCloseTo(Math.sqrt(2) * (1 - 1 / 8 + 1 / 84), 12)
  })

  it("one update of a 1-D strategy: mean, paths, variance and step size by hand", () => {
    const s0 = Cma.init([0], 1, 4)
    // lambda 4, mu 2: w' = (ln 2.5, ln 2.5 - ln 2) = (0.91629, 0.22314) -> w = (0.80412, 0.19588).
    const w1 = Math.log(2.5) / (2 * Math.log(2.5) - Math.log(2))
    const w2 = 1 - w1
    const mueff = 1 / (w1 * w1 + w2 * w2)
    const s1 = Cma.update(s0, [{ x: [0.5], value: 1 }, { x: [1], value: 2 }, { x: [-1], value: 3 }, { x: [2], value: 4 }])
    const yw = w1 * 0.5 + w2 * 1
    expect(s1.mean[0]).toBeCloseTo(yw, 12)
    const n = 1
    const cs = (mueff + 2) / (n + mueff + 5)
    const cc = (4 + mueff / n) / (n + 4 + (2 * mueff) / n)
    const c1 = 2 / ((n + 1.3) ** 2 + mueff)
    const cmu = Math.min(1 - c1, (2 * (mueff - 2 + 1 / mueff)) / ((n + 2) ** 2 + mueff))
    const ds = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
    const ps = Math.sqrt(cs * (2 - cs) * mueff) * yw
    expect(s1.ps[0]).toBeCloseTo(ps, 12)
    const chiN = 1 - 1 / 4 + 1 / 21
    const hs = Math.abs(ps) / Math.sqrt(1 - (1 - cs) ** 2) < (1.4 + 2 / 2) * chiN ? 1 : 0
    const pc = hs * Math.sqrt(cc * (2 - cc) * mueff) * yw
    expect(s1.pc[0]).toBeCloseTo(pc, 12)
    const C = (1 - c1 - cmu + (1 - hs) * c1 * cc * (2 - cc)) + c1 * pc * pc + cmu * (w1 * 0.25 + w2 * 1)
    expect(s1.C[0]).toBeCloseTo(C, 12)
    expect(s1.sigma).toBeCloseTo(Math.exp((cs / ds) * (Math.abs(ps) / chiN - 1)), 12)
    expect(s1.D[0]).toBeCloseTo(Math.sqrt(C), 12)
    expect(s1.generation).toBe(1)
  })

  it("a 2-D update keeps C symmetric positive definite and B D^2 B^T reconstructs it", () => {
    let s = Cma.init([0.5, 0.5], 0.3, 6)
    const g = Rng.generator(7)
    for (let gen = 0; gen < 30; gen++) {
      const sols = Array.from({ length: 6 }, () => {
        const x = Cma.sampleRaw(s, [g.normal(), g.normal()])
        return { x, value: (x[0] - 0.2) ** 2 + 10 * (x[1] - 0.7 + x[0]) ** 2 }
      }).sort((a, b) => a.value - b.value)
      s = Cma.update(s, sols)
    }
    const { B, D, C } = s
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
      let v = 0
      for (let k = 0; k < 2; k++) v += B[i * 2 + k] * D[k] * D[k] * B[j * 2 + k]
      expect(v).toBeCloseTo(C[i * 2 + j], 12)
      expect(C[i * 2 + j]).toBe(C[j * 2 + i])
    }
    expect(Math.min(...D)).toBeGreaterThan(0)
    // Converged towards the optimum (0.2, 0.5).
    expect(Math.abs(s.mean[0] - 0.2)).toBeLessThan(0.05)
    expect(Math.abs(s.mean[1] - 0.5)).toBeLessThan(0.05)
  })

  it("normal CDF and quantile match tables", () => {
    expect(Cma.normCdf(0)).toBeCloseTo(0.5, 7)
    expect(Cma.normCdf(1.959964)).toBeCloseTo(0.975, 6)
    expect(Cma.normCdf(-1)).toBeCloseTo(0.158655, 6)
    expect(Cma.normQuantile(0.975)).toBeCloseTo(1.959964, 6)
    expect(Cma.normQuantile(0.001)).toBeCloseTo(-3.090232, 5)
    expect(Cma.normQuantile(0.5)).toBeCloseTo(0, 12)
  })

  it("the margin keeps the probability of leaving an integer's cell at least margin/2 on each side", () => {
    const dim = dimOf("k", { _tag: "Int", low: 0, high: 9, log: false, step: 1 })
    // A collapsed distribution whose mean sits in the middle of cell 4.
    const s = { ...Cma.init([0.45], 1e-4, 6) }
    const margin = 0.05
    const fixed = Cma.applyMargin(s, [dim.discrete], margin)
    const scale = fixed.sigma * fixed.A[0] * Math.sqrt(fixed.C[0])
    const lo = dim.discrete!.threshold(3)
    const up = dim.discrete!.threshold(4)
    const pLow = Cma.normCdf((lo - fixed.mean[0]) / scale)
    const pUp = 1 - Cma.normCdf((up - fixed.mean[0]) / scale)
    expect(pLow).toBeGreaterThanOrEqual(margin / 2 - 1e-6)
    expect(pUp).toBeGreaterThanOrEqual(margin / 2 - 1e-6)
    expect(fixed.A[0]).toBeGreaterThan(1)
    // In an end cell, the mean moves so that the neighbour is reached with probability margin.
    const edge = Cma.applyMargin(Cma.init([0.01], 1e-4, 6), [dim.discrete], margin)
    const t0 = dim.discrete!.threshold(0)
    expect(1 - Cma.normCdf((t0 - edge.mean[0]) / (edge.sigma * Math.sqrt(edge.C[0])))).toBeCloseTo(margin, 6)
  })
})

const runSphereWith = (sampler: Layer.Layer<Sampler.Sampler>, seed: number, trials: number) =>
  Effect.runPromise(
    Study.optimize({ study: "sphere", space: sphereSpace, objective: sphere, trials }).pipe(Effect.provide(servicesWith(sampler, seed)))
  )

describe("CMA-ES sampler", () => {
  const runSphere = (sampler: Layer.Layer<Sampler.Sampler>, seed: number, trials: number) =>
    Effect.runPromise(
      Study.optimize({ study: "sphere", space: sphereSpace, objective: sphere, trials }).pipe(Effect.provide(servicesWith(sampler, seed)))
    )

  it("beats random search on a 5-D sphere over several seeds", async () => {
    const seeds = [1, 2, 3, 4, 5]
    const cma: Array<number> = []
    const rnd: Array<number> = []
    for (const seed of seeds) {
      cma.push((await runSphere(CmaEs.layer(), seed, 150)).best.pipe((b) => (b._tag === "Some" ? b.value.values![0] : NaN)))
      rnd.push((await runSphere(Sampler.layerRandom, seed, 150)).best.pipe((b) => (b._tag === "Some" ? b.value.values![0] : NaN)))
    }
    // Random search reaches about 5 here; CMA-ES well under 1. The bound is generous.
    expect(median(cma)).toBeLessThan(median(rnd) / 4)
    expect(cma.filter((v, i) => v < rnd[i]).length).toBeGreaterThanOrEqual(4)
  })

  it("is a function of the seed and the history: a fresh sampler continues a study exactly", async () => {
    const storage = Storage.layerMemory
    const program = Effect.gen(function*() {
      const first = yield* Study.optimize({ study: "sphere", space: sphereSpace, objective: sphere, trials: 30 }).pipe(
        Effect.provide(Layer.mergeAll(CmaEs.layer(), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 3 })))
      )
      // A new sampler instance (as after a restart of the process) for the next 30 trials.
      const second = yield* Study.optimize({ study: "sphere", space: sphereSpace, objective: sphere, trials: 30 }).pipe(
        Effect.provide(Layer.mergeAll(CmaEs.layer(), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 3 })))
      )
      return [...first.trials, ...second.trials].map((t) => t.params)
    })
    const split = await Effect.runPromise(program.pipe(Effect.provide(storage)))
    const whole = (await runSphere(CmaEs.layer(), 3, 60)).trials.map((t) => t.params)
    expect(split).toEqual(whole)
    const other = (await runSphere(CmaEs.layer(), 4, 60)).trials.map((t) => t.params)
    expect(other).not.toEqual(whole)
  })

  it("works with 4 concurrent workers and still improves on random", async () => {
    const r = await Effect.runPromise(
      Study.optimize({ study: "par", space: sphereSpace, objective: sphere, trials: 120, concurrency: 4 }).pipe(
        Effect.provide(servicesWith(CmaEs.layer(), 9))
      )
    )
    expect(r.trials.length).toBe(120)
    const rnd = await runSphere(Sampler.layerRandom, 9, 120)
    expect(r.best.pipe((b) => (b._tag === "Some" ? b.value.values![0] : NaN))).toBeLessThan(
      rnd.best.pipe((b) => (b._tag === "Some" ? b.value.values![0] : NaN))
    )
  })

  it("keeps integer parameters moving (margin) and handles log, step and categorical parameters", async () => {
    const space = Space.struct({
      lr: Space.float(1e-5, 1e-1, { log: true }),
      layers: Space.int(1, 8),
      width: Space.int(16, 512, { log: true }),
      dropout: Space.float(0, 0.6, { step: 0.05 }),
      act: Space.categorical(["relu", "tanh"] as const)
    })
    const objective = (c: Space.Type<typeof space>) =>
      (Math.log10(c.lr) + 3) ** 2 + 0.3 * (c.layers - 3) ** 2 + (Math.log2(c.width) - 7) ** 2 + 4 * (c.dropout - 0.25) ** 2 +
      (c.act === "relu" ? 0 : 0.5)
    const r = await Effect.runPromise(
      Study.optimize({ study: "mixed", space, objective, trials: 200 }).pipe(Effect.provide(servicesWith(CmaEs.layer(), 5)))
    )
    const compiled = Space.compile(space)
    for (const t of r.trials) {
      for (const [k, v] of Object.entries(t.params)) expect(Distribution.contains(compiled.params.get(k)!, v)).toBe(true)
    }
    const last = r.trials.slice(-60)
    // The integer dimensions still take more than one value late in the run.
    expect(new Set(last.map((t) => t.params.layers)).size).toBeGreaterThan(1)
    expect(new Set(last.map((t) => t.params.width)).size).toBeGreaterThan(1)
    const best = r.best.pipe((b) => (b._tag === "Some" ? b.value : undefined))!
    expect(best.values![0]).toBeLessThan(0.5)
    const rnd = await Effect.runPromise(
      Study.optimize({ study: "mixed", space, objective, trials: 200 }).pipe(Effect.provide(servicesWith(Sampler.layerRandom, 5)))
    )
    expect(best.values![0]).toBeLessThan(rnd.best.pipe((b) => (b._tag === "Some" ? b.value.values![0] : NaN)))
  })

  it("with the margin, finds the exact integers of an integer/float problem on every seed", async () => {
    const space = Space.struct({ a: Space.int(-20, 20), b: Space.int(-20, 20), c: Space.int(-20, 20), e: Space.float(-1, 1), g: Space.float(-1, 1) })
    // Each integer off by one costs at least 1; the floats converge first (weight 100), which is
    // what stalls integer coordinates without a margin (seed 4 here stops at 9 with margin: false).
    const f = (c: Space.Type<typeof space>) => Math.abs(c.a - 13) + Math.abs(c.b + 7) + Math.abs(c.c - 11) + 100 * (c.e ** 2 + c.g ** 2)
    for (let seed = 0; seed < 8; seed++) {
      const r = await Effect.runPromise(
        Study.optimize({ study: "int", space, objective: f, trials: 400 }).pipe(
          Effect.provide(servicesWith(CmaEs.layer({ restart: "none" }), seed))
        )
      )
      const best = r.best.pipe((b) => (b._tag === "Some" ? b.value : undefined))!
      expect(best.values![0]).toBeLessThan(1)
      expect([best.params.a, best.params.b, best.params.c]).toEqual([13, -7, 11])
    }
  })

  it("starts from x0 with step sigma0", async () => {
    const r = await runSphereWith(CmaEs.layer({ x0: { a: 1, b: 1, c: -2, d: 3, e: 0 }, sigma0: 0.01 }), 1, 10)
    // A step of 0.01 of the range (0.1 in each coordinate): every first trial is near the optimum.
    for (const t of r.trials) expect(t.values![0]).toBeLessThan(5 * 0.1 ** 2 * 9)
  })

  it("works define-by-run: the space is the numeric parameters every complete trial has", async () => {
    const best = async (sampler: Layer.Layer<Sampler.Sampler>) => {
      const r = await Effect.runPromise(
        Study.optimize({
          study: "dbr",
          objective: (_: unknown, t) => {
            const x = t.suggestFloat("x", -5, 5)
            const y = t.suggestInt("y", -5, 5)
            const c = t.suggestCategorical("c", ["a", "b"])
            return (x - 1) ** 2 + (y - 2) ** 2 + (c === "a" ? 0 : 1)
          },
          trials: 120
        }).pipe(Effect.provide(servicesWith(sampler, 5)))
      )
      return { best: r.best.pipe((b) => (b._tag === "Some" ? b.value.values![0] : NaN)), last: r.trials.slice(-20) }
    }
    const cma = await best(CmaEs.layer())
    const rnd = await best(Sampler.layerRandom)
    expect(cma.best).toBeLessThan(0.01)
    expect(cma.best).toBeLessThan(rnd.best)
    // Late trials concentrate around x = 1.
    expect(median(cma.last.map((t) => Math.abs(t.params.x - 1)))).toBeLessThan(0.5)
  })

  it("says at study start that a space of only categoricals, or several objectives, is unsupported", async () => {
    const only = await Effect.runPromise(
      Effect.either(
        Study.optimize({ study: "cat", space: Space.struct({ a: Space.categorical(["x", "y"]) }), objective: () => 1, trials: 3 })
      ).pipe(Effect.provide(servicesWith(CmaEs.layer(), 1)))
    )
    expect(Either.isLeft(only) && only.left._tag).toBe("SamplerUnsupported")
    expect(Either.isLeft(only) && only.left.message).toMatch(/cmaes sampler: the space has only categorical parameters \(a\)/)
    const multi = await Effect.runPromise(
      Effect.either(
        Study.optimize({ study: "mo", space: sphereSpace, objective: () => [1, 2], directions: ["minimize", "minimize"], trials: 3 })
      ).pipe(Effect.provide(servicesWith(CmaEs.layer(), 1)))
    )
    expect(Either.isLeft(multi) && multi.left.message).toMatch(/one objective and this study has 2/)
    const bad = await Effect.runPromise(
      Effect.either(Study.optimize({ study: "b", space: sphereSpace, objective: sphere, trials: 3 })).pipe(
        Effect.provide(servicesWith(CmaEs.layer({ sigma0: 0 }), 1))
      )
    )
    expect(Either.isLeft(bad) && bad.left.message).toMatch(/cmaes sampler: sigma0: expected a number in \(0, 1\], got 0/)
    const x0 = await Effect.runPromise(
      Effect.either(Study.optimize({ study: "b", space: sphereSpace, objective: sphere, trials: 3 })).pipe(
        Effect.provide(servicesWith(CmaEs.layer({ x0: { a: 7 } }), 1))
      )
    )
    expect(Either.isLeft(x0) && x0.left.message).toMatch(/x0.a = 7 is not a value of a numeric parameter of the space \(float \[-5, 5\]\)/)
  })

  it("maximizes, restarts with a larger population (IPOP) once converged, and samples conditional parameters", async () => {
    const space = Space.struct({
      x: Space.float(-1, 1),
      opt: Space.branch({ sgd: Space.struct({ m: Space.float(0, 1) }), adam: Space.struct({ b: Space.int(1, 3) }) })
    })
    const r = await Effect.runPromise(
      Study.optimize({ study: "max", space, objective: (c) => -(c.x ** 2), direction: "maximize", trials: 400 }).pipe(
        Effect.provide(servicesWith(CmaEs.layer({ populationSize: 4 }), 2))
      )
    )
    const best = r.best.pipe((b) => (b._tag === "Some" ? b.value.values![0] : NaN))
    expect(best).toBeGreaterThan(-1e-8)
    // Conditional parameters appear only on their branch.
    for (const t of r.trials) {
      const tag = t.distributions["opt"]!._tag === "Categorical" ? ["sgd", "adam"][t.params.opt] : ""
      expect(t.params["opt.sgd.m"] !== undefined).toBe(tag === "sgd")
      expect(t.params["opt.adam.b"] !== undefined).toBe(tag === "adam")
    }
    // A 1-D problem converges within a few dozen generations of 4 (x within 1e-6 of 0); the
    // restart then spreads trials over the range again.
    const xs = r.trials.map((t) => t.params.x)
    const converged = xs.findIndex((x) => Math.abs(x) < 1e-6)
    expect(converged).toBeGreaterThan(0)
    expect(xs.slice(converged).some((x) => Math.abs(x) > 0.1)).toBe(true)
  })
})

describe("CMA-ES and NSGA-II after a study is reopened from SQLite", () => {
  const cases = [
    ["cmaes", () => CmaEs.layer(), ["minimize"]],
    ["nsga2", () => Nsga2.layer({ populationSize: 8 }), ["minimize", "minimize"]]
  ] as const

  it.each(cases)("%s: 20 trials, close, reopen, 20 more = 40 trials in one go", async (_, sampler, directions) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-cma-"))
    const objective = (c: Space.Type<typeof sphereSpace>) => (directions.length === 1 ? sphere(c) : [sphere(c), (c.a + 3) ** 2 + c.b ** 2])
    const runOn = (file: string, trials: number) =>
      Effect.runPromise(
        Effect.scoped(
          Study.optimize({ study: "reopen", space: sphereSpace, objective, directions: [...directions], trials }).pipe(
            Effect.provide(servicesWith(sampler(), 11, Storage.layerSqlite(file)))
          )
        )
      )
    try {
      const a = path.join(dir, "a.db")
      const first = await runOn(a, 20)
      const second = await runOn(a, 20)
      const whole = await runOn(path.join(dir, "b.db"), 40)
      expect([...first.trials, ...second.trials].map((t) => t.params)).toEqual(whole.trials.map((t) => t.params))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
