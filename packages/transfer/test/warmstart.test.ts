import { Effect, Layer } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Distribution, Sampler, Space, Study, Trial } from "@tunekit/core"
import { complete, mapConfig } from "../src/internal/mapping.js"
import { Transfer } from "../src/index.js"

const space = Space.struct({
  learningRate: Space.float(1e-4, 1e-1, { log: true }),
  dropout: Space.float(0, 0.5),
  batchSize: Space.categorical([32, 64, 128] as const),
  layers: Space.int(1, 4)
})

/** Three earlier tasks at known meta-feature distances from the new one, each with a study. */
const seeded = Effect.gen(function*() {
  const db = yield* Transfer.Transfer
  const study = (task: string, best: Record<string, unknown>, value: number) =>
    db.record({
      task,
      study: `${task}-study`,
      direction: "maximize",
      metric: "accuracy",
      space: {},
      trials: [
        { params: { learningRate: 0.05, dropout: 0.45, batchSize: 32, layers: 1 }, value: value - 0.2, state: "Complete" },
        { params: best, value, state: "Complete" },
        { params: { learningRate: 0.03, dropout: 0.4, batchSize: 32, layers: 1 }, value: value + 0.5, state: "Pruned" }
      ],
      recordedAt: 1
    })
  yield* db.saveTask({ name: "near", metaFeatures: { logRows: 10, classes: 10, stumpAccuracy: 0.3 } })
  yield* db.saveTask({ name: "middle", metaFeatures: { logRows: 8, classes: 10, stumpAccuracy: 0.5 } })
  yield* db.saveTask({ name: "far", metaFeatures: { logRows: 5, classes: 2, stumpAccuracy: 0.9 } })
  yield* db.saveTask({ name: "no-studies", metaFeatures: { logRows: 10, classes: 10, stumpAccuracy: 0.3 } })
  yield* study("near", { learningRate: 0.002, dropout: 0.1, batchSize: 64, layers: 3 }, 0.95)
  // a learning rate above the new range (clipped) and a width the new space lacks (ignored)
  yield* study("middle", { learningRate: 0.5, dropout: 0.3, batchSize: 128, layers: 2, width: 512 }, 0.9)
  yield* study("far", { learningRate: 0.0005, dropout: 0.2, batchSize: 32, layers: 4 }, 0.99)
})
const target = { name: "new", metaFeatures: { logRows: 10.2, classes: 10, stumpAccuracy: 0.32 } }

describe("warm start from the transfer database", () => {
  it("similar ranks tasks by normalized meta-feature distance (or a function), most similar first", async () => {
    const [byMeta, byFn] = await Effect.runPromise(Effect.gen(function*() {
      yield* seeded
      return [
        yield* Transfer.similar(target, 3, { withStudies: true }),
        yield* Transfer.similar("new", 4, { similarity: (a, b) => (b.name.startsWith("n") ? 0.7 : 0.2) })
      ] as const
    }).pipe(Effect.provide(Transfer.layerMemory)))
    expect(byMeta.map((s) => s.task.name)).toEqual(["near", "middle", "far"])
    // logRows range 5..10.2, classes 2..10, stump 0.3..0.9: near is 0.2/5.2, 0, 0.02/0.6 away
    expect(byMeta[0].similarity).toBeCloseTo(1 - (0.2 / 5.2 + 0 + 0.02 / 0.6) / 3, 12)
    expect(byFn.map((s) => [s.task.name, s.similarity])).toEqual([["near", 0.7], ["no-studies", 0.7], ["far", 0.2], ["middle", 0.2]])
  })

  it("the configs a study starts with are the best of the most similar tasks, mapped onto its space", async () => {
    const program = Effect.gen(function*() {
      yield* seeded
      const initial = yield* Transfer.initialConfigs({ task: target, space, k: 2 })
      const result = yield* Study.optimize({ study: "warm", space, objective: (c) => c.dropout, direction: "minimize", trials: 4 }).pipe(
        Effect.provide(Transfer.warmStart({ task: target, space, k: 2 }, Sampler.layerRandom))
      )
      return { initial, result }
    }).pipe(Effect.provide(Layer.merge(Transfer.layerMemory, Study.layerDefaults({ seed: 3 }))))
    const { initial, result } = await Effect.runPromise(program)
    expect(initial.map((c) => [c.task, c.value, c.config])).toEqual([
      ["near", 0.95, { learningRate: 0.002, dropout: 0.1, batchSize: 64, layers: 3 }],
      ["middle", 0.9, { learningRate: 0.1, dropout: 0.3, batchSize: 128, layers: 2 }]
    ])
    expect(initial[1].notes).toEqual(["learningRate: 0.5 is outside float [0.0001, 0.1] log, clipped to 0.1"])
    const params = result.trials.map((t) => Trial.paramValues(t))
    expect(params.slice(0, 2)).toEqual(initial.map((c) => c.config))
    expect(params.slice(2)).not.toContainEqual(initial[0].config)
  })

  it("a changed space maps correctly (property): kept in range, clipped or dropped outside, missing sampled, extra ignored", () => {
    const arbSpace = fc.record({
      low: fc.double({ min: -100, max: 100, noNaN: true }),
      width: fc.double({ min: 1e-3, max: 100, noNaN: true }),
      ilow: fc.integer({ min: -20, max: 20 }),
      iwidth: fc.integer({ min: 1, max: 20 }),
      choices: fc.uniqueArray(fc.constantFrom("a", "b", "c", "d"), { minLength: 1, maxLength: 4 }),
      hasInt: fc.boolean()
    })
    const arbConfig = fc.record({
      x: fc.option(fc.double({ min: -300, max: 300, noNaN: true }), { nil: undefined }),
      n: fc.option(fc.integer({ min: -60, max: 60 }), { nil: undefined }),
      c: fc.option(fc.constantFrom("a", "b", "c", "d", "e"), { nil: undefined }),
      extra: fc.option(fc.integer(), { nil: undefined })
    })
    fc.assert(
      fc.property(arbSpace, arbConfig, fc.constantFrom("clip" as const, "drop" as const), fc.integer(), (s, cfg, policy, seed) => {
        const fields: Record<string, Space.Space<unknown>> = {
          x: Space.float(s.low, s.low + s.width),
          c: Space.categorical(s.choices)
        }
        if (s.hasInt) fields.n = Space.int(s.ilow, s.ilow + s.iwidth)
        const compiled = Space.compile(Space.struct(fields))
        const old = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined))
        const mapped = mapConfig(compiled as Space.Compiled<unknown>, old, policy)
        const rng = { next: (() => { let i = seed >>> 0; return () => ((i = (i * 1664525 + 1013904223) >>> 0) / 2 ** 32) })() }
        const full = complete(compiled, mapped, (_, d) => Distribution.fromUnit(d, rng.next()))
        // always a config of the new space
        expect(() => compiled.flatten(full.config)).not.toThrow()
        const out = full.config as Record<string, unknown>
        expect(Object.keys(out).sort()).toEqual(Object.keys(fields).sort())
        const x = cfg.x
        if (x === undefined) expect(full.sampled).toContain("x")
        else if (x >= s.low && x <= s.low + s.width) expect(out.x).toBe(x)
        else if (policy === "clip") expect(out.x).toBe(x < s.low ? s.low : s.low + s.width)
        else {
          expect(full.sampled).toContain("x")
          expect(mapped.notes.some((n) => n.startsWith("x:") && n.endsWith("dropped"))).toBe(true)
        }
        if (s.hasInt && cfg.n !== undefined) {
          const hi = s.ilow + s.iwidth
          if (cfg.n >= s.ilow && cfg.n <= hi) expect(out.n).toBe(cfg.n)
          else if (policy === "clip") expect(out.n).toBe(cfg.n < s.ilow ? s.ilow : hi)
        }
        if (cfg.c !== undefined) {
          if ((s.choices as ReadonlyArray<string>).includes(cfg.c)) expect(out.c).toBe(cfg.c)
          else expect(full.sampled).toContain("c")
        }
        expect("extra" in out).toBe(false)
      }),
      { numRuns: 300, seed: 42 }
    )
  })

  it("is reproducible for a seed: the same sampled parameters, the same study", async () => {
    const wider = Space.struct({
      learningRate: Space.float(1e-4, 1e-1, { log: true }),
      dropout: Space.float(0, 0.5),
      batchSize: Space.categorical([32, 64, 128] as const),
      layers: Space.int(1, 4),
      momentum: Space.float(0.5, 0.99)
    })
    const run = (seed: number) =>
      Effect.runPromise(Effect.gen(function*() {
        yield* seeded
        const initial = yield* Transfer.initialConfigs({ task: target, space: wider, k: 3, seed })
        const study = yield* Study.optimize({ study: "repro", space: wider, objective: (c) => Number(c.dropout), trials: 5 }).pipe(
          Effect.provide(Transfer.warmStart({ task: target, space: wider, k: 3, seed }, Sampler.layerRandom))
        )
        return { initial: initial.map((c) => c.config), trials: study.trials.map((t) => Trial.paramValues(t)) }
      }).pipe(Effect.provide(Layer.merge(Transfer.layerMemory, Study.layerDefaults({ seed: 9 })))))
    const a = await run(5)
    const b = await run(5)
    const c = await run(6)
    expect(a).toEqual(b)
    // the momentum the old configs lack is sampled from the seed
    expect(a.initial.map((x) => x.momentum)).not.toEqual(c.initial.map((x) => x.momentum))
    expect(a.initial.map(({ momentum: _, ...rest }) => rest)).toEqual(c.initial.map(({ momentum: _, ...rest }) => rest))
    expect(a.trials.slice(0, 3)).toEqual(a.initial)
  })
})
