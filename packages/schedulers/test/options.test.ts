// Each scheduler's options Schema: any one invalid field is refused with the scheduler's typed
// error (InvalidScheduler when the study starts; SamplerUnsupported for BOHB's sampler;
// InvalidFidelity where a fidelity is made), naming the field's path; and each gives a JSON Schema.
import { Sampler, Space } from "@tunekit/core"
import { OptionsConformance } from "@tunekit/core/testing"
import { FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import { Asha, Bohb, Budget, Fidelity, Hyperband, Median, Patience, Pbt, Percentile, Pruner, SuccessiveHalving, Threshold, Wilcoxon } from "../src/index.js"

const { Invalid } = OptionsConformance

const pruner = (make: (input: never) => Pruner.Pruner) => (input: unknown) => OptionsConformance.messageOf(Pruner.validate(make(input as never)))
const thrown = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}

const steps = { nWarmupSteps: Invalid.number({ min: 0 }), intervalSteps: Invalid.number({ int: true, above: 0 }) }

OptionsConformance.suite({
  name: "Median",
  valid: { nStartupTrials: 5, nMinTrials: 2, nWarmupSteps: 3, intervalSteps: 2 },
  fields: { ...steps, nStartupTrials: Invalid.number({ int: true, min: 0 }), nMinTrials: Invalid.number({ int: true, above: 0 }) },
  schema: Median.OptionsSchema,
  problem: pruner(Median.make)
})

OptionsConformance.suite({
  name: "Percentile",
  valid: { percentile: 25, nStartupTrials: 5, nMinTrials: 1, nWarmupSteps: 0, intervalSteps: 1 },
  fields: {
    ...steps,
    percentile: fc.oneof(Invalid.number({ above: 0, max: 100 }), Invalid.missing),
    nStartupTrials: Invalid.number({ int: true, min: 0 }),
    nMinTrials: Invalid.number({ int: true, above: 0 })
  },
  schema: Percentile.OptionsSchema,
  problem: pruner(Percentile.make)
})

OptionsConformance.suite({
  name: "Threshold",
  valid: { lower: 0, upper: 10, nWarmupSteps: 1, intervalSteps: 1 },
  fields: {
    ...steps,
    lower: fc.oneof(Invalid.notNumber, fc.double({ min: 10, minExcluded: true, max: 1e6, noNaN: true })),
    upper: Invalid.notNumber
  },
  schema: Threshold.OptionsSchema,
  problem: pruner(Threshold.make)
})

const patienceFields = { patience: fc.oneof(Invalid.number({ int: true, above: 0 }), Invalid.missing), minDelta: Invalid.number({ min: 0 }) }

OptionsConformance.suite({
  name: "Patience",
  valid: { patience: 3, minDelta: 0.01 },
  fields: patienceFields,
  schema: Patience.OptionsSchema,
  problem: pruner(Patience.make)
})

OptionsConformance.suite({
  name: "Pruner.patience",
  valid: { patience: 3, minDelta: 0 },
  fields: patienceFields,
  problem: pruner((o) => Pruner.patience(Median.make(), o))
})

OptionsConformance.suite({
  name: "Wilcoxon",
  valid: { pThreshold: 0.1, nStartupSteps: 3 },
  fields: { pThreshold: Invalid.number({ above: 0, below: 1 }), nStartupSteps: Invalid.number({ int: true, above: 0 }) },
  schema: Wilcoxon.OptionsSchema,
  problem: pruner(Wilcoxon.make)
})

// Rungs 1, 3, 9 below 27 with eta 3.
const rungs = { minResource: 1, maxResource: 27, reductionFactor: 3 }
const rungFields = {
  minResource: fc.oneof(Invalid.number({ above: 0 }), fc.double({ min: 27, minExcluded: true, max: 1e6, noNaN: true }), Invalid.missing),
  maxResource: fc.oneof(Invalid.number({ above: 0 }), Invalid.missing),
  reductionFactor: Invalid.number({ min: 2 })
}

OptionsConformance.suite({
  name: "SuccessiveHalving",
  valid: { ...rungs, configurations: 27, limit: 60 },
  fields: { ...rungFields, configurations: Invalid.number({ int: true, above: 0 }), limit: Invalid.number({ int: true, above: 0 }) },
  schema: SuccessiveHalving.OptionsSchema,
  problem: pruner(SuccessiveHalving.make)
})

OptionsConformance.suite({
  name: "Asha",
  valid: { ...rungs, mode: "promotion", brackets: 2, limit: 40 },
  fields: {
    ...rungFields,
    mode: Invalid.oneOf(["stopping", "promotion"]),
    brackets: fc.oneof(Invalid.number({ int: true, above: 0 }), fc.integer({ min: 4, max: 100 })),
    limit: Invalid.number({ int: true, above: 0 })
  },
  schema: Asha.OptionsSchema,
  problem: pruner(Asha.make)
})

OptionsConformance.suite({
  name: "Hyperband",
  valid: { ...rungs, brackets: 3, limit: 100 },
  fields: {
    ...rungFields,
    brackets: fc.oneof(Invalid.number({ int: true, above: 0 }), fc.integer({ min: 5, max: 100 })),
    limit: Invalid.number({ int: true, above: 0 })
  },
  schema: Hyperband.OptionsSchema,
  problem: pruner(Hyperband.make)
})

const pbtSpace = Space.compile(Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), width: Space.int(8, 64) }))

OptionsConformance.suite({
  name: "Pbt",
  valid: {
    perturbationInterval: 4,
    maxStep: 40,
    hyperparamMutations: { lr: { factors: [0.5, 2], resampleProbability: 0.1 }, width: true },
    quantileFraction: 0.25,
    resampleProbability: 0.25,
    perturbationFactors: [0.8, 1.2],
    metric: "loss",
    direction: "minimize",
    synch: true,
    population: 8
  },
  fields: {
    perturbationInterval: fc.oneof(Invalid.number({ above: 0 }), Invalid.missing),
    maxStep: Invalid.number({ above: 0 }),
    hyperparamMutations: fc.oneof(Invalid.notObject, fc.constant({})),
    "hyperparamMutations.lr.factors[0]": Invalid.number({ above: 0 }),
    "hyperparamMutations.lr.resampleProbability": Invalid.number({ min: 0, max: 1 }),
    "hyperparamMutations.depth": fc.constantFrom(true, {}),
    quantileFraction: Invalid.number({ above: 0, max: 0.5 }),
    resampleProbability: Invalid.number({ min: 0, max: 1 }),
    "perturbationFactors[1]": Invalid.number({ above: 0 }),
    metric: Invalid.nonEmptyString,
    direction: Invalid.oneOf(["minimize", "maximize"]),
    synch: Invalid.boolean,
    // required with synch: true
    population: fc.oneof(Invalid.number({ int: true, above: 0 }), Invalid.missing)
  },
  schema: Pbt.OptionsSchema,
  problem: (input) => Pbt.validate(input as Pbt.Options, pbtSpace)?.message
})

const study = { id: 1, name: "s", directions: ["minimize" as const], metrics: [], userAttrs: {}, systemAttrs: {}, createdAt: 0 }

OptionsConformance.suite({
  name: "Bohb",
  valid: { ...rungs, minPoints: 5, randomFraction: 0.3, tpe: { nEiCandidates: 12, multivariate: false } },
  fields: {
    ...rungFields,
    minPoints: Invalid.number({ int: true, above: 0 }),
    randomFraction: Invalid.number({ min: 0, max: 1 }),
    tpe: Invalid.notObject,
    "tpe.nEiCandidates": Invalid.number({ int: true, above: 0 }),
    "tpe.multivariate": Invalid.boolean
  },
  schema: Bohb.OptionsSchema,
  problem: (input) => OptionsConformance.messageOf(Bohb.make(input as Bohb.Options).check?.(pbtSpace, study))
})

OptionsConformance.suite({
  name: "Fidelity resources",
  valid: rungs,
  fields: rungFields,
  schema: Fidelity.ResourceOptionsSchema,
  problem: (input) => thrown(() => Fidelity.make("epochs", input as Fidelity.ResourceOptions, (r) => r))
})

OptionsConformance.suite({
  name: "Fidelity.objective",
  valid: { metric: "loss", startAt: () => 1 },
  fields: { metric: Invalid.nonEmptyString, startAt: Invalid.fn },
  schema: Fidelity.ObjectiveOptionsSchema,
  problem: (input) => thrown(() => Fidelity.objective(Fidelity.epochs(rungs), () => 1, input as Fidelity.ObjectiveOptions<unknown>))
})

OptionsConformance.suite({
  name: "Budget",
  valid: { configurations: 50 },
  fields: { configurations: Invalid.number({ int: true, above: 0 }) },
  schema: Budget.OptionsSchema,
  problem: (input) =>
    OptionsConformance.messageOf(Budget.limit(Sampler.random, (input as { configurations: number }).configurations).check?.(pbtSpace, study))
})

describe("scheduler options", () => {
  it("refuse a misspelled option, naming the known ones", async () => {
    expect(await pruner(Asha.make)({ ...rungs, bracket: 2 })).toBe(
      "asha scheduler: bracket: is not an option here (expected one of \"minResource\", \"maxResource\", \"reductionFactor\", \"mode\", \"brackets\", \"limit\")"
    )
  })

  it("a combination refuses to start with its first part's error", async () => {
    expect(await pruner(() => Pruner.any(Median.make(), Threshold.make({ upper: Number.NaN })))(undefined)).toBe(
      "threshold scheduler: upper: expected a finite number, got NaN"
    )
  })
})
