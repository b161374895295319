import { fc, test } from "@fast-check/vitest"
import { Effect, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import { Distribution, Rng, Sampler, Space, Storage, Study } from "@tunekit/core"
import * as Gp from "../src/Gp.js"
import * as GpDesign from "../src/internal/gpDesign.js"

// A parameter of the law's spaces: a float with its own bounds, on a log scale or not.
const paramArb = fc.record({
  low: fc.double({ min: -100, max: 100, noNaN: true }),
  width: fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
  log: fc.boolean()
})
type Param = { readonly low: number; readonly width: number; readonly log: boolean }
const distOf = (name: string, p: Param) =>
  p.log ? Distribution.float(name, Math.abs(p.low) + 1e-3, Math.abs(p.low) + 1e-3 + p.width, { log: true }) : Distribution.float(name, p.low, p.low + p.width)

const services = (sampler: Sampler.SamplerService, seed: number) =>
  Layer.mergeAll(Storage.layerMemory, Layer.succeed(Sampler.Sampler, sampler), Rng.layer({ seed }))

/** The first n trials of a GP study, declared or define-by-run (suggested in order, told at once). */
const startupTrials = (params: ReadonlyArray<Param>, seed: number, byRun: boolean) => {
  const dists = params.map((p, i) => distOf(`p${i}`, p))
  const n = GpDesign.defaultSize(params.length)
  const space = Space.struct(Object.fromEntries(dists.map((d, i) => [`p${i}`, d._tag === "Float" ? Space.float(d.low, d.high, { log: d.log }) : Space.float(0, 1)])))
  return Effect.runPromise(Effect.gen(function*() {
    const study = yield* Study.open(byRun ? { study: "law" } : { study: "law", space })
    for (let i = 0; i < n; i++) {
      const t = Option.getOrThrow(yield* study.ask)
      if (byRun) dists.forEach((d, j) => d._tag === "Float" && t.suggestFloat(`p${j}`, d.low, d.high, { log: d.log }))
      yield* study.tell(t, i % 7)
    }
    return { n, dists, trials: yield* study.trials }
  }).pipe(Effect.provide(services(Gp.make(), seed))))
}

describe("GP startup design", () => {
  // The law: every stratum [k/n, (k+1)/n) of every parameter holds exactly one of the n startup
  // points, declared or define-by-run (where trial 0 is drawn before the space is known, and the
  // design is built around it).
  test.prop([fc.array(paramArb, { minLength: 1, maxLength: 7 }), fc.integer({ min: 0, max: 1e6 }), fc.boolean()], { numRuns: 25 })(
    "every stratum of every dimension holds exactly one startup point",
    async (params, seed, byRun) => {
      const { dists, n, trials } = await startupTrials(params, seed, byRun)
      expect(trials.length).toBe(n)
      dists.forEach((d, j) => {
        const strata = trials.map((t) => Math.min(n - 1, Math.floor(Distribution.toUnit(d, t.params[`p${j}`]) * n))).sort((a, b) => a - b)
        expect(strata).toEqual(Array.from({ length: n }, (_, k) => k))
      })
    }
  )

  it("define-by-run: the first trial to complete fixes the design, proposed as a study attribute", async () => {
    const dists = Array.from({ length: 6 }, (_, i) => Distribution.float(`x${i}`, 0, 1))
    const proposed: Array<unknown> = []
    const gp = Gp.make()
    const recording: Sampler.SamplerService = {
      ...gp,
      sampleRelative: (ctx, s) => {
        const r = gp.sampleRelative!(ctx, s)
        if (r.studyAttrs !== undefined) proposed.push(r.studyAttrs[GpDesign.ATTRIBUTE])
        return r
      }
    }
    const info = await Effect.runPromise(Effect.gen(function*() {
      const study = yield* Study.open({ study: "anchor" })
      for (let i = 0; i < 3; i++) {
        const t = Option.getOrThrow(yield* study.ask)
        dists.forEach((d, j) => t.suggestFloat(`x${j}`, d._tag === "Float" ? d.low : 0, 1))
        yield* study.tell(t, i)
      }
      return yield* (yield* Storage.Storage).getStudy("anchor")
    }).pipe(Effect.provide(services(recording, 5))))
    // Trial 0 is sampled before anything completed; trial 1 proposes the design of 14 (6
    // parameters) around trial 0, which the study stores; trial 2 reads it back and proposes none.
    expect(proposed).toEqual([{ size: 14, anchor: 0 }])
    expect(info.systemAttrs[GpDesign.ATTRIBUTE]).toEqual({ size: 14, anchor: 0 })
  })
})

describe("GP on a conditional space", () => {
  // Branch a's parameter has its optimum at 0.8, branch b's at 0.2 (b slightly worse): a GP that
  // models branch parameters concentrates each near its optimum; one that models only the shared
  // parameters (the intersection) samples them uniformly after its startup.
  const space = Space.struct({
    model: Space.branch({ a: Space.struct({ x: Space.float(0, 1) }), b: Space.struct({ y: Space.float(0, 1) }) }),
    s: Space.float(0, 1)
  })
  type C = Space.Type<typeof space>
  const f = (c: C) => (c.model._tag === "a" ? 4 * (c.model.x - 0.8) ** 2 : 0.1 + 4 * (c.model.y - 0.2) ** 2) + (c.s - 0.5) ** 2
  const distances = (conditional: boolean, seed: number) =>
    Effect.runPromise(Study.optimize({ study: "cond", space, objective: f, trials: 36 }).pipe(
      Effect.provide(services(Gp.make({ conditional }), seed))
    )).then((r) =>
      r.trials.filter((t) => t.number >= 12).map((t) =>
        t.params["model.a.x"] !== undefined ? Math.abs(t.params["model.a.x"] - 0.8) : Math.abs(t.params["model.b.y"] - 0.2)
      )
    )
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length

  it("models branch parameters: after the startup they lie near their branch's optimum, closer than uniform sampling puts them", async () => {
    const modelled: Array<number> = []
    const intersection: Array<number> = []
    for (const seed of [1, 2, 3]) {
      modelled.push(...await distances(true, seed))
      intersection.push(...await distances(false, seed))
    }
    // Uniform draws lie 0.34 from 0.8 (or 0.2) on average.
    expect(mean(intersection)).toBeGreaterThan(0.2)
    expect(mean(modelled)).toBeLessThan(0.2)
    expect(mean(modelled)).toBeLessThan(mean(intersection) / 2)
  })
})
