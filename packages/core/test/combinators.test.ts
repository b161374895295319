import { fc } from "@fast-check/vitest"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { Distribution, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker, Trial } from "../src/index.js"

const services = (sampler: Layer.Layer<Sampler.Sampler>, seed = 1) =>
  Layer.mergeAll(Storage.layerMemory, sampler, Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))

const run = <A, E>(e: Effect.Effect<A, E, Study.Services>, sampler: Layer.Layer<Sampler.Sampler>) =>
  Effect.runPromise(Effect.scoped(e.pipe(Effect.provide(services(sampler)))))

const space = Space.struct({
  x: Space.float(0, 1),
  k: Space.int(0, 100),
  act: Space.categorical(["relu", "tanh", "gelu"]),
  lr: Space.float(1e-4, 1e-1, { log: true })
})

/** A sampler that answers `value` (a unit-cube position) for every parameter, and records what it was asked. */
const tagging = (name: string, unit: number, relative: boolean) => {
  const asked: Array<string> = []
  const relativeAsked: Array<string> = []
  const s: Sampler.SamplerService = {
    name,
    usesHistory: false,
    ...(relative
      ? {
        inferRelativeSpace: (ctx: Sampler.SampleContext) => new Map(ctx.space?.params ?? []),
        sampleRelative: (_: Sampler.SampleContext, sp: Sampler.SearchSpace) => {
          const params: Record<string, number> = {}
          for (const [k, d] of sp) {
            relativeAsked.push(k)
            params[k] = Distribution.fromUnit(d, unit)
          }
          return { params }
        }
      }
      : {}),
    sampleIndependent: (_, n, d) => {
      asked.push(n)
      return Distribution.fromUnit(d, unit)
    }
  }
  return { s, asked, relativeAsked }
}

const optimize = (trials: number, concurrency: number, enqueue?: ReadonlyArray<any>) =>
  Study.optimize({ study: "c", space, objective: (c) => c.x + c.k, trials, concurrency, ...(enqueue ? { enqueue } : {}) })

const sleepy = (trials: number, concurrency: number) =>
  Study.optimize({ study: "c", space, objective: (c) => Effect.as(Effect.sleep("1 millis"), c.x), trials, concurrency })

describe("Sampler.sequence", () => {
  it("uses the first sampler for exactly the first n trials (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(12), fc.nat(20), fc.integer({ min: 1, max: 3 }), fc.boolean(), async (n, total, concurrency, relative) => {
        const a = tagging("a", 0.1, relative)
        const b = tagging("b", 0.9, !relative)
        const r = await run(sleepy(total, concurrency), Sampler.sequence(a.s, { trials: n }, b.s))
        expect(r.trials.length).toBe(total)
        for (const t of r.trials) {
          const x = Trial.paramValues(t).x as number
          expect(x).toBe(t.number < n ? 0.1 : 0.9)
        }
      }),
      { numRuns: 25 }
    )
  })

  it("takes layers, and reports a bad trial count when the study starts", async () => {
    const b = tagging("b", 0.9, false)
    const layer = Sampler.sequence(Sampler.layerRandom, { trials: 3 }, Layer.succeed(Sampler.Sampler, b.s))
    const r = await run(optimize(6, 1), layer)
    expect(r.trials.filter((t) => Trial.paramValues(t).x === 0.9).map((t) => t.number)).toEqual([3, 4, 5])
    const e = await run(Effect.flip(optimize(2, 1)), Sampler.sequence(Sampler.random, { trials: -1 }, Sampler.random))
    expect(e._tag).toBe("SamplerUnsupported")
    expect(e.message).toBe("sequence sampler: trials: expected an integer >= 0, got -1")
  })
})

describe("Sampler.withFixed", () => {
  const fixedArb = fc.record(
    {
      x: fc.double({ min: 0, max: 1, noNaN: true }),
      k: fc.integer({ min: 0, max: 100 }),
      act: fc.constantFrom("relu", "tanh", "gelu"),
      lr: fc.double({ min: 1e-4, max: 1e-1, noNaN: true })
    },
    { requiredKeys: [] }
  )

  it("never resamples a fixed parameter (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fixedArb, fc.integer({ min: 1, max: 12 }), fc.boolean(), fc.integer({ min: 1, max: 3 }), async (fixed, total, relative, concurrency) => {
        const inner = tagging("inner", 0.5, relative)
        const r = await run(sleepy(total, concurrency), Sampler.withFixed(fixed, inner.s))
        expect(r.trials.length).toBe(total)
        for (const t of r.trials) {
          const p = Trial.paramValues(t)
          for (const [k, v] of Object.entries(fixed)) expect(p[k]).toBe(v)
        }
        const fixedNames = Object.keys(fixed)
        expect(inner.asked.filter((n) => fixedNames.includes(n))).toEqual([])
        expect(inner.relativeAsked.filter((n) => fixedNames.includes(n))).toEqual([])
        // Every other parameter is the inner sampler's.
        const free = [...Space.compile(space).params.keys()].filter((n) => !fixedNames.includes(n))
        for (const n of free) expect(inner.asked.includes(n) || inner.relativeAsked.includes(n)).toBe(true)
      }),
      { numRuns: 25 }
    )
  })

  it("fails at study start on a name outside the space or a value outside its distribution", async () => {
    const e1 = await run(Effect.flip(optimize(2, 1)), Sampler.withFixed({ batch: 64 }, Sampler.layerRandom))
    expect(e1._tag).toBe("SamplerUnsupported")
    expect(e1.message).toContain(`"batch" is not in the search space`)
    const e2 = await run(Effect.flip(optimize(2, 1)), Sampler.withFixed({ k: 101 }, Sampler.layerRandom))
    expect(e2.message).toContain(`"k"`)
    expect(e2.message).toContain("outside")
    const e3 = await run(Effect.flip(optimize(2, 1)), Sampler.withFixed({ act: "swish" }, Sampler.layerRandom))
    expect(e3.message).toContain("swish")
  })

  it("fixes define-by-run parameters too", async () => {
    const r = await run(
      Study.optimize({ study: "d", objective: (_, t) => t.suggestFloat("a", 0, 1) + t.suggestInt("b", 1, 9), trials: 5 }),
      Sampler.withFixed({ b: 7 }, Sampler.layerRandom)
    )
    expect(r.trials.map((t) => t.params.b)).toEqual([7, 7, 7, 7, 7])
  })
})

describe("Sampler.warmStart", () => {
  const configArb = fc.record({
    x: fc.double({ min: 0, max: 1, noNaN: true }),
    k: fc.integer({ min: 0, max: 100 }),
    act: fc.constantFrom("relu", "tanh", "gelu"),
    lr: fc.double({ min: 1e-4, max: 1e-1, noNaN: true })
  })
  const same = (t: Trial.FrozenTrial, c: Record<string, unknown>) => {
    const p = Trial.paramValues(t)
    return Object.entries(c).every(([k, v]) => p[k] === v)
  }

  it("runs the configs first, once each, in order (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(configArb, { maxLength: 6 }), fc.nat(6), fc.integer({ min: 1, max: 3 }), async (configs, extra, concurrency) => {
        const inner = tagging("inner", 0.5, false)
        const total = configs.length + extra
        const r = await run(sleepy(total, concurrency), Sampler.warmStart(configs, inner.s))
        const byNumber = [...r.trials].sort((a, b) => a.number - b.number)
        configs.forEach((c, i) => expect(same(byNumber[i], c)).toBe(true))
        for (const t of byNumber.slice(configs.length)) expect(Trial.paramValues(t).x).toBe(0.5)
        configs.forEach((c) => expect(byNumber.filter((t) => same(t, c)).length).toBe(configs.filter((o) => JSON.stringify(o) === JSON.stringify(c)).length))
      }),
      { numRuns: 25 }
    )
  })

  it("does not run a config again when the study continues, and refuses a partial config at start", async () => {
    const configs = [{ x: 0.3, k: 5, act: "tanh", lr: 0.01 }]
    const layer = Layer.mergeAll(Storage.layerMemory, Sampler.warmStart(configs, Sampler.layerRandom), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 2 }))
    const program = Effect.gen(function*() {
      yield* optimize(2, 1)
      return yield* optimize(2, 1)
    })
    const r = await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layer))))
    const all = yield_(r)
    expect(all.filter((t) => Trial.paramValues(t).x === 0.3).length).toBe(1)
    const partial = await run(Effect.flip(optimize(1, 1)), Sampler.warmStart([{ x: 0.4 }], Sampler.layerRandom))
    expect(partial._tag).toBe("SamplerUnsupported")
    expect(partial.message).toContain("config 0")
  })

  it("fails at study start on a config that does not fit the space, naming it", async () => {
    const e = await run(Effect.flip(optimize(2, 1)), Sampler.warmStart([{ x: 0.1, k: 1, act: "relu", lr: 0.01 }, { x: 2, k: 1, act: "relu", lr: 0.01 }], Sampler.layerRandom))
    expect(e._tag).toBe("SamplerUnsupported")
    expect(e.message).toContain("config 1")
    expect(e.message).toContain("x")
  })
})

const yield_ = (r: Study.Result<any>) => Effect.runSync(r.study.trials)

describe("Sampler.perGroup", () => {
  it("gives each group's parameters to its sampler and the rest to the other (property)", async () => {
    const names = ["x", "k", "act", "lr"]
    await fc.assert(
      fc.asyncProperty(fc.subarray(names), fc.boolean(), fc.boolean(), async (owned, byName, relative) => {
        const a = tagging("a", 0.1, relative)
        const b = tagging("b", 0.9, !relative)
        const params = byName ? owned : (n: string) => owned.includes(n)
        const r = await run(optimize(4, 1), Sampler.perGroup([{ params, sampler: a.s }], b.s))
        const d = Space.compile(space).params
        for (const t of r.trials) {
          for (const n of names) {
            expect(t.params[n]).toBe(Distribution.fromUnit(d.get(n)!, owned.includes(n) ? 0.1 : 0.9))
          }
        }
        expect([...a.asked, ...a.relativeAsked].every((n) => owned.includes(n))).toBe(true)
        expect([...b.asked, ...b.relativeAsked].every((n) => !owned.includes(n))).toBe(true)
      }),
      { numRuns: 20 }
    )
  })
})
