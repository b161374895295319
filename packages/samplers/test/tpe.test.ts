import { Distribution, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Effect, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import { hypervolume } from "../src/internal/paretoHypervolume.js"
import { contributions, greedySubset } from "../src/internal/tpeHypervolume.js"
import { defaultWeights, nondominationRanks, split } from "../src/internal/tpeSplit.js"
import * as Qmc from "../src/Qmc.js"
import * as Tpe from "../src/Tpe.js"

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Runs `trials` trials of `f` on `space` through ask/tell and returns the best value. */
const bestOf = <A>(space: Space.Space<A>, f: (c: A) => number, sampler: Layer.Layer<Sampler.Sampler>, seed: number, trials: number) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const study = yield* Study.open({ study: "t", space })
    let best = Infinity
    for (let i = 0; i < trials; i++) {
      const a = Option.getOrThrow(yield* study.ask)
      const v = f(a.config)
      yield* study.tell(a, v)
      best = Math.min(best, v)
    }
    return best
  }).pipe(Effect.provide(Layer.mergeAll(Storage.layerMemory, sampler, Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))))))

const sphere = Space.struct({ a: Space.float(-5, 5), b: Space.float(-5, 5), c: Space.float(-5, 5), d: Space.float(-5, 5) })
const sphereF = (c: Space.Type<typeof sphere>) => (c.a - 1) ** 2 + (c.b + 2) ** 2 + c.c ** 2 + (c.d - 0.5) ** 2

describe("TPE", () => {
  it("beats random search on a smooth problem over several seeds", async () => {
    const seeds = [1, 2, 3, 4, 5]
    for (const [label, layer] of [["multivariate", () => Tpe.layer()], ["univariate", () => Tpe.layer({ multivariate: false })]] as const) {
      const tpe = await Promise.all(seeds.map((s) => bestOf(sphere, sphereF, layer(), s, 60)))
      const rnd = await Promise.all(seeds.map((s) => bestOf(sphere, sphereF, Sampler.layerRandom, s, 60)))
      // A generous bound: the benchmark (npm run bench -- samplers) holds the real targets.
      expect(median(tpe), label).toBeLessThan(median(rnd) / 3)
    }
  })

  it("models ints, log floats, steps and categoricals natively", async () => {
    const space = Space.struct({
      lr: Space.float(1e-5, 1, { log: true }),
      n: Space.int(1, 64, { log: true }),
      drop: Space.float(0, 0.9, { step: 0.05 }),
      k: Space.int(0, 40, { step: 2 }),
      act: Space.categorical(["relu", "tanh", "gelu", "silu", "elu", "selu"])
    })
    const f = (c: Space.Type<typeof space>) =>
      (Math.log10(c.lr) + 3) ** 2 + (Math.log2(c.n) - 4) ** 2 + 10 * (c.drop - 0.35) ** 2 + ((c.k - 12) / 10) ** 2 + (c.act === "gelu" ? 0 : 1)
    const seeds = [1, 2, 3]
    const tpe = await Promise.all(seeds.map((s) => bestOf(space, f, Tpe.layer(), s, 60)))
    const rnd = await Promise.all(seeds.map((s) => bestOf(space, f, Sampler.layerRandom, s, 60)))
    expect(median(tpe)).toBeLessThan(median(rnd) / 2)
  })

  it("fails at study start on bad options, naming them", async () => {
    const run = (o: Tpe.Options) =>
      Effect.runPromise(Effect.flip(Effect.scoped(Study.optimize({ study: "x", space: sphere, objective: sphereF, trials: 1 }).pipe(
        Effect.provide(Layer.mergeAll(Storage.layerMemory, Tpe.layer(o), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 1 })))
      ))))
    for (const [o, text] of [
      [{ nStartupTrials: -1 }, "nStartupTrials"],
      [{ nEiCandidates: 0 }, "nEiCandidates"],
      [{ priorWeight: 0 }, "priorWeight"],
      [{ gamma: () => NaN }, "gamma"],
      [{ weights: () => [] }, "weights"]
    ] as const) {
      const e = await run(o as Tpe.Options)
      expect(e._tag).toBe("SamplerUnsupported")
      expect(e.message).toContain(text)
    }
  })
})

// A hand-made history for the pure parts of TPE.
let nextId = 0
const trial = (number: number, state: Trial.State, params: Record<string, number>, dists: Record<string, Distribution.Distribution>, values?: ReadonlyArray<number>, steps?: ReadonlyArray<number>): Trial.FrozenTrial => ({
  id: nextId++,
  number,
  state,
  params,
  distributions: dists,
  values,
  intermediate: (steps ?? []).map((step) => ({ step, values: { value: values?.[0] ?? 0 } })),
  userAttrs: {},
  systemAttrs: {},
  startedAt: undefined,
  finishedAt: undefined,
  worker: undefined,
  reason: undefined
})

describe("TPE's split, weights and groups", () => {
  const x = Distribution.float("x", 0, 1)
  it("splits by value, then pruned trials by progress; running trials are always above", () => {
    const ts = [
      trial(0, "Complete", { x: 0.1 }, { x }, [5]),
      trial(1, "Complete", { x: 0.2 }, { x }, [1]),
      trial(2, "Pruned", { x: 0.3 }, { x }, [0.5], [1, 2, 3]),
      trial(3, "Running", { x: 0.4 }, { x }),
      trial(4, "Complete", { x: 0.5 }, { x }, [3]),
      trial(5, "Pruned", { x: 0.6 }, { x }, [0.1], [1])
    ]
    const numbers = (s: ReturnType<typeof split>) => [s.below.map((t) => t.number), s.above.map((t) => t.number)]
    expect(numbers(split(ts, ["minimize"], 2))).toEqual([[1, 4], [0, 2, 3, 5]])
    expect(numbers(split(ts, ["maximize"], 2))).toEqual([[0, 4], [1, 2, 3, 5]])
    // More below than complete trials: the pruned one that got further comes first.
    expect(numbers(split(ts, ["minimize"], 4))).toEqual([[0, 1, 2, 4], [3, 5]])
  })

  it("splits several objectives by non-domination rank and hypervolume", () => {
    const ts = [
      trial(0, "Complete", { x: 0 }, { x }, [1, 5]),
      trial(1, "Complete", { x: 0 }, { x }, [2, 2]),
      trial(2, "Complete", { x: 0 }, { x }, [5, 1]),
      trial(3, "Complete", { x: 0 }, { x }, [3, 3]),
      trial(4, "Complete", { x: 0 }, { x }, [6, 6])
    ]
    expect(nondominationRanks(ts.map((t) => [...t.values!]), 5)).toEqual([0, 0, 0, 1, 2])
    expect(split(ts, ["minimize", "minimize"], 3).below.map((t) => t.number)).toEqual([0, 1, 2])
    // Two of the front: greedy hypervolume keeps the knee point (2, 2) first.
    expect(split(ts, ["minimize", "minimize"], 1).below.map((t) => t.number)).toEqual([1])
  })

  it("hypervolume, contributions and greedy subsets on small known fronts", () => {
    expect(hypervolume([[1, 2], [2, 1]], [3, 3])).toBe(3)
    expect(hypervolume([[1, 1, 1]], [2, 3, 4])).toBe(6)
    expect(hypervolume([[1, 2, 1], [2, 1, 1]], [3, 3, 2])).toBe(3)
    expect(hypervolume([[0, 0], [1, 1]], [2, 2])).toBe(4)
    expect(contributions([[1, 2], [2, 1]], [3, 3])).toEqual([1, 1])
    expect(greedySubset([[0, 3], [1, 1], [3, 0]], 1, [4, 4])).toEqual([1])
  })

  it("weighs the 25 newest observations fully and ramps older ones down", () => {
    expect(defaultWeights(3)).toEqual([1, 1, 1])
    const w = defaultWeights(30)
    expect(w.length).toBe(30)
    expect(w.slice(5)).toEqual(Array(25).fill(1))
    expect(w[0]).toBeCloseTo(1 / 30, 15)
    expect(w[4]).toBeCloseTo(1, 15)
    expect(w[1] - w[0]).toBeCloseTo(w[2] - w[1], 15)
  })

  it("decomposes a conditional history into groups of parameters that occur together", () => {
    const a = Distribution.categorical("opt", ["sgd", "adam"])
    const m = Distribution.float("m", 0, 1)
    const b = Distribution.float("b", 0, 1)
    const ts = [
      trial(0, "Complete", { opt: 0, x: 0.1, m: 0.5 }, { opt: a, x, m }, [1]),
      trial(1, "Complete", { opt: 1, x: 0.2, b: 0.5 }, { opt: a, x, b }, [1]),
      trial(2, "Complete", { opt: 0, x: 0.3, m: 0.1 }, { opt: a, x, m }, [1]),
      trial(3, "Running", { opt: 1, x: 0.2, z: 0.5 }, { opt: a, x, z: x })
    ]
    const names = (g: ReturnType<typeof Tpe.decompose>) => g.map((grp) => grp.map(([k]) => k)).sort()
    expect(names(Tpe.decompose(ts, true))).toEqual([["b"], ["m"], ["opt", "x"]])
    expect(names(Tpe.decompose(ts, false))).toEqual([["opt", "x"]])
  })
})

describe("TPE's constant liar", () => {
  it("moves away from points that running trials are already evaluating", () => {
    const x = Distribution.float("x", 0, 1)
    // Good results near 0.2, bad elsewhere, and five workers already running at 0.2.
    const done = Array.from({ length: 30 }, (_, i) => {
      const v = (i * 0.618) % 1
      return trial(i, "Complete", { x: v }, { x }, [(v - 0.2) ** 2])
    })
    const running = Array.from({ length: 5 }, (_, i) => trial(30 + i, "Running", { x: 0.2 + (i - 2) * 0.01 }, { x }))
    const suggest = (liar: boolean, seed: number) => {
      const s = Tpe.make({ constantLiar: liar, multivariate: false })
      const ctx: Sampler.SampleContext = {
        study: { id: 1, name: "s", directions: ["minimize"], metrics: [], userAttrs: {}, systemAttrs: {}, createdAt: 0 },
        trialNumber: 35,
        rng: Rng.generator(seed),
        derive: (...k) => Rng.generator(seed, ...k),
        history: [...done, ...running],
        space: undefined
      }
      return s.sampleIndependent(ctx, "x", x)
    }
    const dist = (liar: boolean) => median(Array.from({ length: 40 }, (_, s) => Math.abs(suggest(liar, s) - 0.2)))
    expect(dist(true)).toBeGreaterThan(2 * dist(false))
  })
})

describe("MOTPE", () => {
  it("improves the hypervolume over random search on a two-objective problem", async () => {
    const space = Space.struct({ x: Space.float(0, 1), y: Space.float(0, 1), z: Space.float(0, 1) })
    const f = (c: Space.Type<typeof space>) => [c.x + c.z * c.z, 1 - Math.sqrt(c.x) + c.z * c.z + (c.y - 0.5) ** 2]
    const hv = (layer: Layer.Layer<Sampler.Sampler>, seed: number) =>
      Effect.runPromise(Effect.scoped(Study.optimize({ study: "mo", space, directions: ["minimize", "minimize"], objective: f, trials: 60 }).pipe(
        Effect.map((r) => hypervolume(r.paretoFront.map((t) => [...t.values!]), [2, 2])),
        Effect.provide(Layer.mergeAll(Storage.layerMemory, layer, Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed })))
      )))
    const seeds = [1, 2, 3]
    const tpe = median(await Promise.all(seeds.map((s) => hv(Tpe.layer(), s))))
    const rnd = median(await Promise.all(seeds.map((s) => hv(Sampler.layerRandom, s))))
    expect(tpe).toBeGreaterThan(rnd)
  })
})

describe("TPE in compositions and define-by-run studies", () => {
  const services = (sampler: Layer.Layer<Sampler.Sampler>, seed = 3) =>
    Layer.mergeAll(Storage.layerMemory, sampler, Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))

  it("models define-by-run parameters, conditional ones included", async () => {
    const objective = (_: unknown, t: Study.TrialContext<Record<string, unknown>>) => {
      const kind = t.suggestCategorical("kind", ["a", "b"])
      const x = t.suggestFloat("x", -5, 5)
      const y = kind === "a" ? t.suggestFloat("ya", -5, 5) : t.suggestInt("yb", -5, 5)
      return (x - 1) ** 2 + (y - 2) ** 2 + (kind === "a" ? 0 : 0.5)
    }
    const best = (layer: Layer.Layer<Sampler.Sampler>, seed: number) =>
      Effect.runPromise(Effect.scoped(Study.optimize({ study: "dbr", objective, trials: 50 }).pipe(
        Effect.map((r) => Option.getOrThrow(r.best).values![0]),
        Effect.provide(services(layer, seed))
      )))
    const seeds = [1, 2, 3, 4, 5]
    const tpe = median(await Promise.all(seeds.map((s) => best(Tpe.layer(), s))))
    const rnd = median(await Promise.all(seeds.map((s) => best(Sampler.layerRandom, s))))
    expect(tpe).toBeLessThan(rnd / 2)
  })

  it("follows a startup design given by Sampler.sequence, then models", async () => {
    const params = (layer: Layer.Layer<Sampler.Sampler>) =>
      Effect.runPromise(Effect.scoped(Study.optimize({ study: "seq", space: sphere, objective: sphereF, trials: 30 }).pipe(
        Effect.map((r) => r.trials.map((t) => t.params)),
        Effect.provide(services(layer))
      )))
    const composed = await params(Sampler.sequence(Qmc.layer({ kind: "sobol" }), { trials: 12 }, Tpe.layer()))
    const qmcOnly = await params(Qmc.layer({ kind: "sobol" }))
    expect(composed.slice(0, 12)).toEqual(qmcOnly.slice(0, 12))
    expect(composed.slice(12)).not.toEqual(qmcOnly.slice(12))
    const fixed = await params(Sampler.withFixed({ c: 0 }, Tpe.layer()))
    expect(fixed.every((p) => p.c === 0)).toBe(true)
  })
})
