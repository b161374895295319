import { fc, test } from "@fast-check/vitest"
import { Effect } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import { Distribution, InvalidSpace, Rng, Sampler, Space } from "../src/index.js"

const errorOf = (f: () => unknown): InvalidSpace => {
  try {
    f()
  } catch (e) {
    if (e instanceof InvalidSpace) return e
    throw e
  }
  throw new Error("expected InvalidSpace")
}

// Arbitrary distributions: floats (plain, log, step), ints (plain, log, step), categoricals.
const distribution: fc.Arbitrary<Distribution.Distribution> = fc.oneof(
  fc.tuple(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: 1e-3, max: 1e3, noNaN: true }))
    .map(([lo, w]) => Distribution.float("f", lo, lo + w)),
  fc.tuple(fc.double({ min: 1e-6, max: 10, noNaN: true }), fc.double({ min: 1.01, max: 1e4, noNaN: true }))
    .map(([lo, r]) => Distribution.float("f", lo, lo * r, { log: true })),
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 1, max: 20 }), fc.constantFrom(0.1, 0.25, 0.5, 2))
    .map(([lo, n, step]) => Distribution.float("f", lo, lo + n * step, { step })),
  fc.tuple(fc.integer({ min: -100, max: 100 }), fc.integer({ min: 1, max: 100 }))
    .map(([lo, w]) => Distribution.int("i", lo, lo + w)),
  fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 1000 }))
    .map(([lo, w]) => Distribution.int("i", lo, lo + w, { log: true })),
  fc.tuple(fc.integer({ min: -20, max: 20 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 5 }))
    .map(([lo, n, step]) => Distribution.int("i", lo, lo + n * step, { step })),
  fc.uniqueArray(fc.oneof(fc.string(), fc.integer(), fc.boolean()), { minLength: 1, maxLength: 8 })
    .map((cs) => Distribution.categorical("c", cs))
)

describe("Distribution", () => {
  test.prop([distribution, fc.integer()])("random samples lie inside the bounds and on the grid", (d, seed) => {
    const rng = Rng.generator(seed)
    for (let i = 0; i < 50; i++) {
      const v = Sampler.sampleUniform(rng, d)
      expect(Distribution.contains(d, v)).toBe(true)
    }
  })

  test.prop([distribution, fc.integer()])("internal <-> external round-trips", (d, seed) => {
    const v = Sampler.sampleUniform(Rng.generator(seed), d)
    expect(Distribution.toInternal(d, Distribution.toExternal(d, v))).toBe(v)
  })

  test.prop([distribution, fc.double({ min: 0, max: 1, noNaN: true })])("fromUnit lands on the distribution and toUnit inverts it", (d, u) => {
    const v = Distribution.fromUnit(d, u)
    expect(Distribution.contains(d, v)).toBe(true)
    expect(Distribution.fromUnit(d, Distribution.toUnit(d, v))).toBeCloseTo(v, 6)
  })

  it("toUnit inverts fromUnit for every value of a log int (a counterexample fast-check once found)", () => {
    const d = Distribution.int("n", 1, 5, { log: true })
    for (let v = 1; v <= 5; v++) expect(Distribution.fromUnit(d, Distribution.toUnit(d, v))).toBe(v)
    expect(Distribution.fromUnit(d, 0.45815690999132624)).toBe(2)
  })

  it("log sampling is uniform in log space", () => {
    const d = Distribution.float("lr", 1e-5, 1e-1, { log: true })
    const rng = Rng.generator(3)
    const below = Array.from({ length: 4000 }, () => Sampler.sampleUniform(rng, d)).filter((v) => v < 1e-3).length
    expect(below / 4000).toBeGreaterThan(0.45) // half the decades lie below 1e-3
    expect(below / 4000).toBeLessThan(0.55)
  })

  it("gives every value of an int or step grid", () => {
    expect(Distribution.gridValues(Distribution.float("f", 0, 1, { step: 0.25 }))).toEqual([0, 0.25, 0.5, 0.75, 1])
    expect(Distribution.gridValues(Distribution.int("i", 2, 8, { step: 3 }))).toEqual([2, 5, 8])
    expect(Distribution.gridValues(Distribution.float("f", 0, 1))).toBeUndefined()
  })
})

describe("Space validation", () => {
  it.each([
    ["low >= high", () => Space.float(1, 0), "Space.float(1, 0)", "must be below"],
    ["log with low <= 0", () => Space.float(0, 1, { log: true }), "Space.float(0, 1)", "low > 0"],
    ["step not dividing the range", () => Space.float(0, 1, { step: 0.3 }), "Space.float(0, 1)", "step: 0.3 does not divide"],
    ["empty categorical", () => Space.categorical([]), "Space.categorical", "at least one"],
    ["a choice twice", () => Space.categorical(["a", "b", "a"]), "Space.categorical", "\"a\" appears twice"],
    ["non-finite bounds", () => Space.float(0, Infinity), "Space.float(0, Infinity)", "high: expected a finite number, got Infinity"],
    ["NaN bound", () => Space.int(NaN, 3), "Space.int(NaN, 3)", "low: expected an integer, got NaN"],
    ["log and step", () => Space.float(1, 2, { log: true, step: 0.5 }), "Space.float(1, 2)", "log and step"],
    ["an unknown option", () => Space.int(1, 8, { lg: true } as never), "Space.int(1, 8)", "lg: is not an option"],
    ["a field that is not a space", () => Space.struct({ lr: 0.1 as never }), "lr", "is not a space"],
    ["an empty struct as a field", () => Space.struct({ head: Space.struct({}) }), "head", "no parameters"],
    ["a branch without cases", () => Space.branch({}), "Space.branch", "at least one case"],
    ["a branch case that is not a struct", () => Space.branch({ sgd: Space.float(0, 1) as never }), "sgd", "must be a Space.struct"]
  ])("%s is an InvalidSpace where it is written", (_, f, param, reason) => {
    const e = errorOf(f)
    expect(e.param).toBe(param)
    expect(e.message).toContain(param)
    expect(e.reason).toContain(reason)
  })

  it("an empty struct is a branch case without parameters, and refused as a whole space", () => {
    const compiled = Space.compile(Space.struct({ opt: Space.branch({ sgd: Space.struct({}), adam: Space.struct({ b: Space.float(0, 1) }) }) }))
    expect([...compiled.params.keys()]).toEqual(["opt", "opt.adam.b"])
    const e = errorOf(() => Space.compile(Space.struct({})))
    expect(e.reason).toContain("no parameters")
  })

  it("compile names the parameter of what only the whole space shows", () => {
    const e = errorOf(() => Space.compile(Space.struct({ a: Space.branch({ b: Space.struct({ c: Space.int(0, 1) }) }), "a.b.c": Space.int(0, 2) })))
    expect(e.param).toBe("a.b.c")
    expect(e.reason).toContain("used twice")
  })

  it("validate is the typed Effect form", () => {
    const r = Effect.runSync(Effect.either(Space.validate(Space.struct({}))))
    expect(r._tag).toBe("Left")
  })
})

const space = Space.struct({
  learningRate: Space.float(1e-5, 1e-2, { log: true }),
  hiddenSize: Space.categorical([64, 128, 256] as const),
  numLayers: Space.int(2, 6),
  optimizer: Space.branch({
    sgd: Space.struct({ momentum: Space.float(0.5, 0.99) }),
    adam: Space.struct({ beta1: Space.float(0.8, 0.999), amsgrad: Space.categorical([true, false]) })
  }),
  head: Space.struct({ activation: Space.categorical(["relu", "tanh"]) })
})

describe("Space types", () => {
  it("infers the config type exactly", () => {
    type Config = Space.Type<typeof space>
    expectTypeOf<Config>().toEqualTypeOf<{
      readonly learningRate: number
      readonly hiddenSize: 64 | 128 | 256
      readonly numLayers: number
      readonly optimizer:
        | { readonly _tag: "sgd"; readonly momentum: number }
        | { readonly _tag: "adam"; readonly beta1: number; readonly amsgrad: boolean }
      readonly head: { readonly activation: "relu" | "tanh" }
    }>()
  })

  it("makes a misspelled field a compile error", () => {
    const use = (c: Space.Type<typeof space>) => {
      // @ts-expect-error: there is no field learningrate
      const misspelled = c.learningrate
      // @ts-expect-error: momentum exists only once the branch is narrowed to sgd
      const unnarrowed = c.optimizer.momentum
      return [misspelled, unnarrowed, c.optimizer._tag === "sgd" ? c.optimizer.momentum : c.optimizer.beta1]
    }
    expect(typeof use).toBe("function")
  })
})

describe("Space.compile", () => {
  const compiled = Space.compile(space)

  it("lists every parameter with dotted paths", () => {
    expect([...compiled.params.keys()]).toEqual([
      "learningRate", "hiddenSize", "numLayers", "optimizer", "optimizer.sgd.momentum",
      "optimizer.adam.beta1", "optimizer.adam.amsgrad", "head.activation"
    ])
  })

  test.prop([fc.integer()])("builds configs that flatten back to their parameters", (seed) => {
    const rng = Rng.generator(seed)
    const { config, params } = compiled.build((_, d) => Sampler.sampleUniform(rng, d))
    const flat = compiled.flatten(config)
    expect(Object.keys(flat).sort()).toEqual(Object.keys(params).sort())
    for (const [k, v] of Object.entries(params)) expect(flat[k]).toEqual(Distribution.toExternal(compiled.params.get(k)!, v))
    // only the chosen branch's parameters appear
    const other = config.optimizer._tag === "sgd" ? "optimizer.adam.beta1" : "optimizer.sgd.momentum"
    expect(other in params).toBe(false)
  })

  it("flatten names the parameter that does not fit", () => {
    const bad = { learningRate: 1, hiddenSize: 64, numLayers: 2, optimizer: { _tag: "sgd", momentum: 0.9 }, head: { activation: "relu" } } as const
    expect(errorOf(() => compiled.flatten(bad)).param).toBe("learningRate")
  })
})
