// GP-BO's prior transfer (Options.prior, the ranking-weighted GP ensemble of Feurer et al. 2018):
// with an identical earlier task it beats no transfer; with an unrelated one it does no worse, because
// the unrelated task's weight falls as the study's trials show that it ranks them wrongly.
import { Effect, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { Rng, type Sampler, Space, Study, type Trial } from "@tunekit/core"
import { Gp, Tpe } from "../src/index.js"
import * as GpModel from "../src/internal/gp.js"
import * as GpPrior from "../src/internal/gpPrior.js"
import * as GpSampler from "../src/internal/gpSampler.js"

const space = Space.struct({ x0: Space.float(0, 1), x1: Space.float(0, 1), x2: Space.float(0, 1) })
const sphere = (c: ReadonlyArray<number>) => (x: Record<string, number>) => c.reduce((a, ci, i) => a + (x[`x${i}`] - ci) ** 2, 0)
const target = sphere([0.7, 0.2, 0.55])
const unrelated = sphere([0.1, 0.9, 0.05])

const run = (f: (x: Record<string, number>) => number, trials: number, seed: number, sampler: "gp" | "tpe", prior?: ReadonlyArray<Gp.PriorTask>) =>
  Effect.runPromise(
    Study.optimize({ study: "s", space, objective: f, trials }).pipe(
      Effect.provide(sampler === "tpe" ? Tpe.layer() : Gp.layer(prior === undefined ? {} : { prior })),
      Effect.provide(Study.layerDefaults({ seed }))
    )
  ).then((r) => r.trials)
const bestAt = (ts: ReadonlyArray<Trial.FrozenTrial>, n: number) => Math.min(...ts.slice(0, n).map((t) => t.values?.[0] ?? Infinity))
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const SEEDS = [0, 1, 2, 3, 4]

// The earlier tasks' histories are TPE studies, as the transfer database holds them.
describe("GP prior transfer", () => {
  it("with an identical earlier task it beats no transfer: its 10th trial is better than no transfer's 30th", async () => {
    const history = await run(target, 60, 1000, "tpe")
    const none: Array<Array<number>> = []
    const prior: Array<Array<number>> = []
    for (const seed of SEEDS) {
      const a = await run(target, 30, seed, "gp")
      const b = await run(target, 10, seed, "gp", [{ trials: history, direction: "minimize" }])
      none.push([bestAt(a, 10), bestAt(a, 30)])
      prior.push([bestAt(b, 10)])
    }
    console.log(`median best at 10: prior ${median(prior.map((r) => r[0])).toExponential(2)}; none at 10 ${median(none.map((r) => r[0])).toExponential(2)}, at 30 ${median(none.map((r) => r[1])).toExponential(2)}`)
    expect(median(prior.map((r) => r[0]))).toBeLessThan(median(none.map((r) => r[1])))
  }, 120_000)

  it("with an unrelated earlier task it does no worse than no transfer, at 20 trials and at 40", async () => {
    const history = await run(unrelated, 60, 1000, "tpe")
    const none: Array<Array<number>> = []
    const prior: Array<Array<number>> = []
    for (const seed of SEEDS) {
      const a = await run(target, 40, seed, "gp")
      const b = await run(target, 40, seed, "gp", [{ trials: history, direction: "minimize" }])
      none.push([bestAt(a, 20), bestAt(a, 40)])
      prior.push([bestAt(b, 20), bestAt(b, 40)])
    }
    const at = (rs: Array<Array<number>>, i: number) => median(rs.map((r) => r[i]))
    console.log(`median best at 20 and 40: prior ${at(prior, 0).toExponential(2)}, ${at(prior, 1).toExponential(2)}; none ${at(none, 0).toExponential(2)}, ${at(none, 1).toExponential(2)}`)
    expect(at(prior, 0)).toBeLessThanOrEqual(at(none, 0))
    expect(at(prior, 1)).toBeLessThanOrEqual(at(none, 1))
  }, 120_000)

  it("an earlier task's weight falls as the study's trials show it ranks them wrongly, and stays up when it ranks them right", async () => {
    const compiled = Space.compile(space)
    const enc = GpSampler.encoding(new Map(compiled.params))
    const encoder = GpSampler.encoderOf(enc, true)
    const base = async (f: typeof target) => GpPrior.fitBase("matern52", encoder, { trials: await run(f, 60, 1000, "tpe"), direction: "minimize" }, 0, Rng.generator(0), true)!
    const same = await base(target)
    const other = await base(unrelated)
    const study = await run(target, 60, 7, "tpe")
    const weightAt = (m: GpPrior.BaseModel, n: number) => {
      const ts = study.slice(0, n)
      const x = new Float64Array(n * enc.dims)
      ts.forEach((t, i) => encoder.encode(encoder.rowOf(t), x, i * enc.dims))
      const y = Float64Array.from(ts, (t) => -t.values![0])
      encoder.warp(y)
      GpPrior.standardizeInPlace(y)
      const data = { x, y, n, dims: enc.dims }
      const hyper = GpModel.fit("matern52", data, Rng.generator(1), { additive: true })
      return GpPrior.weights({ data, loo: GpModel.looPredictions("matern52", data, hyper)! }, [m], Rng.generator(1, "w", n), 256).bases[0]
    }
    const unrelatedWeights = [5, 20, 60].map((n) => weightAt(other, n))
    const identicalWeights = [5, 20, 60].map((n) => weightAt(same, n))
    console.log(`weights at 5, 20, 60 trials: unrelated ${unrelatedWeights.map((w) => w.toFixed(3))}, identical ${identicalWeights.map((w) => w.toFixed(3))}`)
    expect(unrelatedWeights[2]).toBeLessThan(unrelatedWeights[0])
    expect(unrelatedWeights[2]).toBeLessThan(0.1)
    expect(identicalWeights[2]).toBeGreaterThan(0.5)
    // before the study can rank anything, the weights are the similarities
    expect(GpPrior.weights(undefined, [same, { ...other, similarity: 0.25 }], Rng.generator(1), 64)).toEqual({ target: 0, bases: [0.8, 0.2] })
  }, 120_000)

  it("with a related earlier task whose optimum moved, the trust region and the earlier task's kernel refine where the prior alone stalls", async () => {
    // Branin on [-5, 10] x [0, 15]; the earlier task's copy is moved by (0.25, -0.2) and scaled by 2.
    const braninSpace = Space.struct({ x0: Space.float(-5, 10), x1: Space.float(0, 15) })
    const branin = (dx: number, dy: number, scale: number) => (c: Record<string, number>) => {
      const x0 = c.x0 - dx
      const x1 = c.x1 - dy
      return scale * ((x1 - (5.1 / (4 * Math.PI ** 2)) * x0 ** 2 + (5 / Math.PI) * x0 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x0) + 10)
    }
    const runOn = (f: (c: Record<string, number>) => number, trials: number, seed: number, layer: Layer.Layer<Sampler.Sampler>) =>
      Effect.runPromise(Study.optimize({ study: "s", space: braninSpace, objective: f, trials }).pipe(Effect.provide(layer), Effect.provide(Study.layerDefaults({ seed })))).then((r) => r.trials)
    const history = await runOn(branin(0.25, -0.2, 2), 60, 1000, Tpe.layer())
    const prior = [{ trials: history, direction: "minimize" as const }]
    const regret = async (options: Gp.Options) => {
      const out: Array<number> = []
      for (const seed of SEEDS) out.push(bestAt(await runOn(branin(0, 0, 1), 10, seed, Gp.layer({ ...options, prior })), 10) - 0.397887)
      return median(out)
    }
    const withBoth = await regret({})
    const without = await regret({ priorTrustRegion: 0, priorPretrainedTrials: 0 })
    console.log(`median regret at 10 trials: trust region and kernel ${withBoth.toExponential(2)}, neither ${without.toExponential(2)}`)
    expect(withBoth).toBeLessThan(without / 2)
  }, 120_000)

  it("the trust region doubles after 3 improvements in a row, halves after `failures` trials without one, and collapses below `min`", () => {
    const options = { initial: 0.2, max: 0.8, min: 0.05, successes: 3, failures: 2 }
    expect(GpPrior.trustRegion([1], options)).toBe(0.2)
    expect(GpPrior.trustRegion([1, 2, 3, 4], options)).toBeCloseTo(0.4)
    expect(GpPrior.trustRegion([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], options)).toBeCloseTo(0.8)
    expect(GpPrior.trustRegion([1, 0, 0], options)).toBeCloseTo(0.1)
    expect(GpPrior.trustRegion([1, 0, 0, 0, 0], options)).toBeCloseTo(0.05)
    expect(GpPrior.trustRegion([1, 0, 0, 0, 0, 0, 0], options)).toBeUndefined()
  })

  it("the earlier tasks' kernel is the geometric mean of theirs", () => {
    const base = (amplitude: number, lengthScales: ReadonlyArray<number>, noise: number): GpPrior.BaseModel => ({
      name: "t",
      similarity: 1,
      tops: [],
      post: { hyper: { amplitude, lengthScales: Float64Array.from(lengthScales), noise, additive: 0 } } as GpModel.Posterior
    })
    const h = GpPrior.pretrained([base(1, [0.1, 2], 1e-4), base(4, [0.4, 0.5], 1e-6)])!
    expect(h.amplitude).toBeCloseTo(2)
    expect(Array.from(h.lengthScales)).toEqual([expect.closeTo(0.2), expect.closeTo(1)])
    expect(h.noise).toBeCloseTo(1e-5, 10)
    expect(h.additive).toBe(0)
    expect(GpPrior.pretrained([])).toBeUndefined()
  })
})
