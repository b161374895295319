import { Distribution } from "@tunekit/core"
import { describe, expect, it } from "vitest"
import * as Importance from "../src/Importance.js"
import * as Source from "../src/Source.js"
import { history, type TrialSpec, uniform } from "./fixtures.js"

const space = {
  x: Distribution.float("x", 0, 1),
  y: Distribution.float("y", 0, 1),
  z: Distribution.float("z", 1e-3, 1, { log: true }),
  c: Distribution.categorical("c", ["a", "b", "c"]),
  n: Distribution.int("n", 1, 5),
  opt: Distribution.categorical("opt", ["sgd", "adam"]),
  "opt.sgd.momentum": Distribution.float("opt.sgd.momentum", 0, 1),
  "opt.adam.beta1": Distribution.float("opt.adam.beta1", 0.8, 0.999)
}

/** n uniform random configs of x, y, z, c, n with the objective f. */
const synthetic = (n: number, f: (p: { x: number; y: number; z: number; c: string; n: number }) => number | ReadonlyArray<number>, seed = 1) => {
  const u = uniform(seed)
  const specs: Array<TrialSpec> = []
  for (let i = 0; i < n; i++) {
    const p = { x: u(), y: u(), z: Math.exp(Math.log(1e-3) * (1 - u())), c: ["a", "b", "c"][Math.floor(u() * 3)], n: 1 + Math.floor(u() * 5) }
    const v = f(p)
    specs.push({ params: p, values: typeof v === "number" ? [v] : v })
  }
  return specs
}

const byParam = (d: Importance.Data, objective = 0) => Object.fromEntries(d.params.map((p, i) => [p, d.objectives[objective].importances[i]]))

describe("fANOVA", () => {
  it("finds the parameter that dominates a synthetic objective", () => {
    const study = Source.make({ name: "s", directions: ["minimize"] }, history(space, synthetic(200, (p) => 20 * (p.x - 0.3) ** 2 + 0.2 * p.y + 0.05 * Math.log10(p.z))))
    const d = Importance.fanova(study, { seed: 3, trees: 32 })
    const imp = byParam(d)
    expect(d.params[0]).toBe("x")
    expect(imp.x).toBeGreaterThan(0.9)
    expect(imp.y + imp.z + imp.c + imp.n).toBeLessThan(0.1)
    expect(d.objectives[0].importances.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
    expect(d.objectives[0].trials).toBe(200)
  })

  it("measures main effects of an additive function close to their true shares (3x + y: 0.9 and 0.1)", () => {
    const study = Source.make({ name: "s", directions: ["minimize"] }, history(space, synthetic(300, (p) => 3 * p.x + p.y)))
    const d = Importance.fanova(study, { params: ["x", "y"], seed: 1, trees: 32 })
    const imp = byParam(d)
    expect(imp.x).toBeGreaterThan(0.82)
    expect(imp.x).toBeLessThan(0.97)
    // The raw fractions of variance: the two main effects explain nearly all of it.
    const fx = d.objectives[0].fractions!
    expect(fx[0] + fx[1]).toBeGreaterThan(0.85)
  })

  it("finds a dominant categorical parameter (split into sets of choices)", () => {
    const effect: Record<string, number> = { a: 0, b: 5, c: 1 }
    const study = Source.make({ name: "s", directions: ["maximize"] }, history(space, synthetic(150, (p) => effect[p.c] + 0.1 * p.x)))
    const d = Importance.fanova(study, { seed: 2, trees: 16 })
    expect(d.params[0]).toBe("c")
    expect(byParam(d).c).toBeGreaterThan(0.9)
  })

  it("computes one set per objective, aligned on the same parameters", () => {
    const study = Source.make(
      { name: "s", directions: ["minimize", "maximize"], metrics: ["loss", "speed"] },
      history(space, synthetic(150, (p) => [5 * p.x, 5 * p.y]))
    )
    const d = Importance.fanova(study, { trees: 16 })
    expect(d.objectives.map((o) => o.objective)).toEqual(["loss", "speed"])
    expect(byParam(d, 0).x).toBeGreaterThan(0.8)
    expect(byParam(d, 1).y).toBeGreaterThan(0.8)
    const one = Importance.fanova(study, { objective: "speed", trees: 16 })
    expect(one.objectives.map((o) => o.objective)).toEqual(["speed"])
    expect(one.params[0]).toBe("y")
  })
})

describe("PED-ANOVA", () => {
  it("finds the parameter that decides which trials are in the top 10%", () => {
    const study = Source.make({ name: "s", directions: ["minimize"] }, history(space, synthetic(300, (p) => 20 * (p.x - 0.3) ** 2 + 0.2 * p.y)))
    const d = Importance.pedAnova(study)
    const imp = byParam(d)
    expect(d.method).toBe("ped-anova")
    expect(d.params[0]).toBe("x")
    expect(imp.x).toBeGreaterThan(0.7)
    expect(d.objectives[0].importances.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
  })

  it("in the global form, compares the top with the uniform density of the domain", () => {
    const study = Source.make({ name: "s", directions: ["maximize"] }, history(space, synthetic(200, (p) => -Math.abs(Math.log10(p.z) + 2) + 0.01 * p.x)))
    const d = Importance.pedAnova(study, { local: false, quantile: 0.2 })
    expect(d.params[0]).toBe("z")
    expect(byParam(d).z).toBeGreaterThan(0.5)
  })

  it("gives zero importances when the objective is constant", () => {
    const study = Source.make({ name: "s", directions: ["minimize"] }, history(space, synthetic(50, () => 1)))
    expect(Importance.pedAnova(study).objectives[0].importances.every((v) => v === 0)).toBe(true)
    expect(Importance.fanova(study, { trees: 4 }).objectives[0].importances.every((v) => v === 0)).toBe(true)
  })
})

describe("importance on awkward histories", () => {
  const branchy = history(space, [
    { params: { x: 0.1, opt: "sgd", "opt.sgd.momentum": 0.9 }, values: [1] },
    { params: { x: 0.5, opt: "adam", "opt.adam.beta1": 0.9 }, values: [2] },
    { params: { x: 0.7, opt: "sgd", "opt.sgd.momentum": 0.5 }, values: [3] },
    { params: { x: 0.2, opt: "adam", "opt.adam.beta1": 0.95 }, values: [1.5] },
    { params: { x: 0.9, opt: "sgd", "opt.sgd.momentum": 0.1 }, values: [4] },
    { state: "Failed", params: { x: 0.3, opt: "sgd", "opt.sgd.momentum": 0.3 }, reason: "NaN" },
    { state: "Pruned", params: { x: 0.4, opt: "adam", "opt.adam.beta1": 0.85 }, values: [9] }
  ])
  const study = Source.make({ name: "branchy", directions: ["minimize"] }, branchy)

  it("leaves out the parameters of a branch by default, and failed and pruned trials", () => {
    for (const d of [Importance.fanova(study, { trees: 8 }), Importance.pedAnova(study)]) {
      expect([...d.params].sort()).toEqual(["opt", "x"])
      expect(d.objectives[0].trials).toBe(5)
    }
  })

  it("evaluates a named branch parameter on the trials where it is active", () => {
    const d = Importance.fanova(study, { params: ["x", "opt.sgd.momentum"], trees: 8 })
    expect(d.objectives[0].trials).toBe(3)
    expect([...d.params].sort()).toEqual(["opt.sgd.momentum", "x"])
  })

  it("says which parameter does not exist", () => {
    expect(() => Importance.fanova(study, { params: ["lr"] })).toThrow(/no trial has the parameter "lr"/)
    expect(() => Importance.pedAnova(study, { objective: 2 })).toThrow(/has 1 objective/)
  })

  it("gives an empty result for an empty study", () => {
    const empty = Source.make({ name: "empty", directions: ["minimize"] }, [])
    for (const d of [Importance.fanova(empty), Importance.pedAnova(empty)]) {
      expect(d.params).toEqual([])
      expect(d.objectives).toEqual([expect.objectContaining({ objective: "value", trials: 0, importances: [] })])
    }
  })
})
