// Each sampler's options Schema: any one invalid field is refused when the study starts
// (the sampler's check fails with SamplerUnsupported), naming the field's path; and each gives a
// JSON Schema.
import { Sampler, Space } from "@tunekit/core"
import { OptionsConformance } from "@tunekit/core/testing"
import { FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import { Auto, CmaEs, Gp, Nsga2, Qmc, Tpe } from "../src/index.js"

const { Invalid } = OptionsConformance

const study = { id: 1, name: "s", directions: ["minimize" as const], metrics: [], userAttrs: {}, systemAttrs: {}, createdAt: 0 }
const space = Space.compile(Space.struct({ a: Space.float(0, 1), b: Space.int(1, 8) }))
const problem = (make: (input: never) => Sampler.SamplerService) => (input: unknown) =>
  OptionsConformance.messageOf(make(input as never).check?.(space, study))

OptionsConformance.suite({
  name: "Tpe",
  valid: {
    nStartupTrials: 5,
    nEiCandidates: 24,
    gamma: Tpe.optunaGamma,
    weights: Tpe.defaultWeights,
    considerPrior: true,
    priorWeight: 1,
    considerMagicClip: true,
    considerEndpoints: false,
    multivariate: true,
    group: true,
    bandwidth: 0.1,
    adaptive: true,
    constantLiar: true
  },
  fields: {
    nStartupTrials: Invalid.number({ int: true, min: 0 }),
    nEiCandidates: Invalid.number({ int: true, above: 0 }),
    gamma: fc.oneof(Invalid.fn, fc.constantFrom(() => Number.NaN, () => -1, () => "5", (n: number) => (n > 50 ? Infinity : 1))),
    weights: fc.oneof(Invalid.fn, fc.constantFrom(() => [], (n: number) => Array.from({ length: n }, () => -1), (n: number) => Array.from({ length: n }, () => 0))),
    considerPrior: Invalid.boolean,
    priorWeight: Invalid.number({ above: 0 }),
    considerMagicClip: Invalid.boolean,
    considerEndpoints: Invalid.boolean,
    multivariate: Invalid.boolean,
    group: Invalid.boolean,
    bandwidth: Invalid.number({ above: 0 }),
    adaptive: Invalid.boolean,
    constantLiar: Invalid.boolean
  },
  schema: Tpe.OptionsSchema,
  problem: problem(Tpe.make)
})

OptionsConformance.suite({
  name: "Gp",
  valid: {
    kernel: "rbf",
    acquisition: "ucb",
    kappa: 2,
    xi: 0,
    exploreXi: 0.1,
    nStartupTrials: 8,
    initialDesign: "sobol",
    liar: "mean",
    candidates: 256,
    localStarts: 2,
    restarts: 1,
    warp: true,
    additive: false,
    maxPoints: 200,
    maxFitPoints: 50
  },
  fields: {
    kernel: Invalid.oneOf(["matern52", "rbf"]),
    acquisition: Invalid.oneOf(["logei", "ei", "pi", "ucb"]),
    kappa: Invalid.number({ min: 0 }),
    xi: Invalid.number({ min: 0 }),
    exploreXi: Invalid.number({ min: 0 }),
    nStartupTrials: Invalid.number({ int: true, min: 2 }),
    initialDesign: Invalid.oneOf(["lhs", "sobol", "random"]),
    liar: Invalid.oneOf(["believer", "min", "max", "mean"]),
    candidates: Invalid.number({ int: true, above: 0 }),
    localStarts: Invalid.number({ int: true, above: 0 }),
    restarts: Invalid.number({ int: true, min: 0 }),
    warp: Invalid.boolean,
    additive: Invalid.boolean,
    maxPoints: Invalid.number({ int: true, min: 2 }),
    maxFitPoints: Invalid.number({ int: true, min: 2 })
  },
  schema: Gp.OptionsSchema,
  problem: problem(Gp.make)
})

OptionsConformance.suite({
  name: "CmaEs",
  valid: { sigma0: 0.2, populationSize: 6, restart: "none", incPopSize: 2, margin: 0.1, x0: { a: 0.5, b: 4 } },
  fields: {
    sigma0: Invalid.number({ above: 0, max: 1 }),
    populationSize: Invalid.number({ int: true, min: 2 }),
    restart: Invalid.oneOf(["ipop", "none"]),
    incPopSize: Invalid.number({ min: 1 }),
    margin: fc.oneof(Invalid.number({ above: 0, below: 0.5 }).filter((v) => v !== false), fc.constant(true)),
    x0: Invalid.notObject,
    "x0.a": Invalid.notNumber
  },
  schema: CmaEs.OptionsSchema,
  problem: problem(CmaEs.make)
})

OptionsConformance.suite({
  name: "Nsga2",
  valid: { populationSize: 20, crossover: "sbx", crossoverProb: 0.9, swappingProb: 0.5, mutationProb: 0.1, etaCrossover: 20, etaMutation: 20 },
  fields: {
    populationSize: Invalid.number({ int: true, min: 2 }),
    crossover: Invalid.oneOf(["uniform", "sbx"]),
    crossoverProb: Invalid.number({ min: 0, max: 1 }),
    swappingProb: Invalid.number({ min: 0, max: 1 }),
    mutationProb: Invalid.number({ min: 0, max: 1 }),
    etaCrossover: Invalid.number({ min: 0 }),
    etaMutation: Invalid.number({ min: 0 })
  },
  schema: Nsga2.OptionsSchema,
  problem: problem(Nsga2.make)
})

OptionsConformance.suite({
  name: "Qmc",
  valid: { kind: "lhs", scramble: true, seed: 3, size: 50, centered: false },
  fields: {
    kind: Invalid.oneOf(["sobol", "halton", "lhs"]),
    scramble: Invalid.boolean,
    seed: Invalid.notNumber,
    size: Invalid.number({ int: true, above: 0 }),
    centered: Invalid.boolean
  },
  schema: Qmc.OptionsSchema,
  problem: problem(Qmc.make)
})

OptionsConformance.suite({
  name: "Auto",
  valid: { trials: 40 },
  fields: { trials: Invalid.number({ int: true, min: 0 }) },
  schema: Auto.OptionsSchema,
  problem: problem(Auto.make)
})

describe("sampler options", () => {
  it("refuse a misspelled option, naming the known ones", async () => {
    const message = await problem(Tpe.make)({ nStartupTrails: 5 })
    expect(message).toMatch(/^tpe sampler: nStartupTrails: is not an option here \(expected one of "nStartupTrials", "nEiCandidates", /)
  })

  it("say what a function option returned", async () => {
    expect(await problem(Tpe.make)({ gamma: () => -1 })).toBe("tpe sampler: gamma: gamma(0) must be a non-negative finite number, got -1")
    expect(await problem(Tpe.make)({ weights: () => { throw new Error("no") } })).toBe("tpe sampler: weights: threw on 0 trials: no")
  })
})
