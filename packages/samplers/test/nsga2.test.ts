import { Effect, Either, Layer } from "effect"
import { Distribution, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { describe, expect, it } from "vitest"
import * as Hypervolume from "../src/Hypervolume.js"
import * as Nsga2 from "../src/Nsga2.js"
import * as Nsga from "../src/internal/nsga.js"

const servicesWith = (sampler: Layer.Layer<Sampler.Sampler>, seed: number) =>
  Layer.mergeAll(Storage.layerMemory, sampler, Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))

// ZDT1 (Zitzler, Deb, Thiele 2000) in 4 dimensions: the Pareto front is f2 = 1 - sqrt(f1), at x2..x4 = 0.
const zdtSpace = Space.struct({ x1: Space.float(0, 1), x2: Space.float(0, 1), x3: Space.float(0, 1), x4: Space.float(0, 1) })
const zdt1 = (c: Space.Type<typeof zdtSpace>) => {
  const g = 1 + (9 * (c.x2 + c.x3 + c.x4)) / 3
  return [c.x1, g * (1 - Math.sqrt(c.x1 / g))]
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const runZdt = (sampler: Layer.Layer<Sampler.Sampler>, seed: number, trials: number, concurrency = 1) =>
  Effect.runPromise(
    Study.optimize({ study: "zdt1", space: zdtSpace, objective: zdt1, directions: ["minimize", "minimize"], trials, concurrency }).pipe(
      Effect.provide(servicesWith(sampler, seed))
    )
  )

describe("NSGA-II operators", () => {
  it("survival keeps whole fronts, then the least crowded of the last front", () => {
    const members = [
      { id: 0, objectives: [0, 4] },
      { id: 1, objectives: [4, 0] },
      { id: 2, objectives: [1, 3.9] }, // crowded next to 0 on the first front
      { id: 3, objectives: [2, 2] },
      { id: 4, objectives: [5, 5] } // dominated
    ]
    const kept = Nsga.survive(members, 3).map((m) => m.id).sort()
    // Front {0,1,2,3} is cut to 3: the extremes (infinite distance), then 3 (distance
    // 3/4 + 3.9/4 = 1.725) before 2 (2/4 + 2/4 = 1).
    expect(kept).toEqual([0, 1, 3])
    expect(Nsga.survive(members, 4).map((m) => m.id).sort()).toEqual([0, 1, 2, 3])
  })

  it("the tournament prefers the lower rank, then the larger crowding distance", () => {
    const pop = Nsga.rank([
      { id: 0, objectives: [0, 0] },
      { id: 1, objectives: [1, 1] }
    ])
    const g = Rng.generator(1)
    for (let i = 0; i < 20; i++) expect(Nsga.tournament(pop, g).id).toBe(0)
  })

  it("SBX and polynomial mutation stay in [0, 1], and SBX children are symmetric around the parents' mean", () => {
    const g = Rng.generator(2)
    for (let i = 0; i < 500; i++) {
      const a = g.next()
      const b = g.next()
      const [c1, c2] = Nsga.sbx(a, b, 20, g)
      for (const c of [c1, c2]) {
        expect(c).toBeGreaterThanOrEqual(0)
        expect(c).toBeLessThanOrEqual(1)
      }
      // Without clipping at the bounds, the children's mean is the parents' mean.
      if (c1 > 0 && c1 < 1 && c2 > 0 && c2 < 1 && Math.min(a, b) > 0.2 && Math.max(a, b) < 0.8) {
        expect((c1 + c2) / 2).toBeCloseTo((a + b) / 2, 1)
      }
      const m = Nsga.polynomialMutation(a, 20, g)
      expect(m).toBeGreaterThanOrEqual(0)
      expect(m).toBeLessThanOrEqual(1)
    }
  })
})

describe("NSGA-II sampler", () => {
  it("improves the hypervolume over random search on ZDT1 over several seeds", async () => {
    const ref = [1.1, 11]
    const hv = (r: { readonly trials: ReadonlyArray<Trial.FrozenTrial> }) => Hypervolume.ofTrials(r.trials, ["minimize", "minimize"], ref)
    const nsga: Array<number> = []
    const rnd: Array<number> = []
    for (const seed of [1, 2, 3]) {
      nsga.push(hv(await runZdt(Nsga2.layer({ populationSize: 20 }), seed, 300)))
      rnd.push(hv(await runZdt(Sampler.layerRandom, seed, 300)))
    }
    // The true front's volume against (1.1, 11) is 10 + 2/3 + 1.1 = 11.77; with 300 trials NSGA-II
    // reaches about 11.3 and random search about 10.6.
    expect(median(nsga)).toBeGreaterThan(median(rnd) + 0.3)
    expect(nsga.every((v, i) => v > rnd[i])).toBe(true)
  })

  it("same seed and history give the same trials; another seed other ones; works with 4 workers", async () => {
    const a = (await runZdt(Nsga2.layer({ populationSize: 10 }), 5, 40)).trials.map((t) => t.params)
    const b = (await runZdt(Nsga2.layer({ populationSize: 10 }), 5, 40)).trials.map((t) => t.params)
    const c = (await runZdt(Nsga2.layer({ populationSize: 10 }), 6, 40)).trials.map((t) => t.params)
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
    const par = await runZdt(Nsga2.layer({ populationSize: 10 }), 5, 60, 4)
    expect(par.trials.length).toBe(60)
    expect(par.paretoFront.length).toBeGreaterThan(0)
  })

  it("children of a mixed space (SBX crossover) stay on their distributions, and follow their branch", async () => {
    const space = Space.struct({
      lr: Space.float(1e-5, 1e-1, { log: true }),
      layers: Space.int(1, 6),
      drop: Space.float(0, 0.5, { step: 0.1 }),
      act: Space.categorical(["relu", "tanh", "gelu"] as const),
      opt: Space.branch({ sgd: Space.struct({ m: Space.float(0.5, 0.99) }), adam: Space.struct({ b1: Space.float(0.8, 0.999) }) })
    })
    const compiled = Space.compile(space)
    const r = await Effect.runPromise(
      Study.optimize({
        study: "mixed",
        space,
        objective: (c) => [Math.abs(Math.log10(c.lr) + 3) + c.layers, c.drop + (c.act === "relu" ? 0 : 1) + (c.opt._tag === "sgd" ? c.opt.m : c.opt.b1)],
        directions: ["minimize", "minimize"],
        trials: 80
      }).pipe(Effect.provide(servicesWith(Nsga2.layer({ populationSize: 10, crossover: "sbx" }), 3)))
    )
    for (const t of r.trials) {
      for (const [k, v] of Object.entries(t.params)) {
        const d = compiled.params.get(k)!
        expect(d).toBeDefined()
        expect(Distribution.contains(d, v)).toBe(true)
      }
      const tag = ["sgd", "adam"][t.params.opt]
      expect(t.params["opt.sgd.m"] !== undefined).toBe(tag === "sgd")
      expect(t.params["opt.adam.b1"] !== undefined).toBe(tag === "adam")
    }
  })

  it("maximizing the negated objectives gives exactly the same trials as minimizing them", async () => {
    const run = (directions: ReadonlyArray<"minimize" | "maximize">, sign: number) =>
      Effect.runPromise(
        Study.optimize({
          study: "zdt1",
          space: zdtSpace,
          objective: (c) => zdt1(c).map((v) => sign * v),
          directions: [...directions],
          trials: 60
        }).pipe(Effect.provide(servicesWith(Nsga2.layer({ populationSize: 10 }), 8)))
      )
    const min = await run(["minimize", "minimize"], 1)
    const max = await run(["maximize", "maximize"], -1)
    expect(max.trials.map((t) => t.params)).toEqual(min.trials.map((t) => t.params))
    const mixed = await run(["minimize", "maximize"], 1)
    expect(mixed.trials.map((t) => t.params)).not.toEqual(min.trials.map((t) => t.params))
  })

  it("rejects bad options when the study starts", async () => {
    const r = await Effect.runPromise(
      Effect.either(
        Study.optimize({ study: "b", space: zdtSpace, objective: zdt1, directions: ["minimize", "minimize"], trials: 2 })
      ).pipe(Effect.provide(servicesWith(Nsga2.layer({ populationSize: 1 }), 1)))
    )
    expect(Either.isLeft(r) && r.left._tag).toBe("SamplerUnsupported")
    expect(Either.isLeft(r) && r.left.message).toMatch(/nsga2 sampler: populationSize: expected an integer >= 2, got 1/)
  })
})
