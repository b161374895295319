import { Checkpoint, Rng, Scheduler, Storage } from "@tunekit/core"
import { SchedulerConformance } from "@tunekit/core/testing"
import { Context, Effect, Layer } from "effect"
import { expect, it } from "vitest"
import { Asha, Hyperband, Median, Patience, Pbt, Percentile, SuccessiveHalving, Threshold, Wilcoxon } from "../src/index.js"

// Every scheduler of the package, with options under which it acts on the suite's histories
// (steps 1 to 12). BOHB has no scheduler of its own: it is a sampler paired with Hyperband's.
const resources = { minResource: 1, maxResource: SchedulerConformance.steps.last, reductionFactor: 3 }

const schedulers: ReadonlyArray<readonly [string, string, () => SchedulerConformance.SchedulerLayer, SchedulerConformance.Options?]> = [
  ["median", "median", () => Median.layer({ nStartupTrials: 4 }), { sqlite: true }],
  ["percentile", "percentile", () => Percentile.layer({ percentile: 25, nStartupTrials: 4 })],
  ["threshold", "threshold", () => Threshold.layer({ upper: 0.8 })],
  ["patience", "patience", () => Patience.layer({ patience: 2, minDelta: 0.02 })],
  ["wilcoxon", "wilcoxon", () => Wilcoxon.layer({ pThreshold: 0.2 }), { direction: "maximize" }],
  ["successive halving", "successive-halving", () => SuccessiveHalving.layer(resources)],
  ["asha (stopping)", "asha", () => Asha.layer(resources), { sqlite: true }],
  ["asha (stopping, maximize)", "asha", () => Asha.layer(resources), { direction: "maximize" }],
  ["asha (promotion)", "asha", () => Asha.layer({ ...resources, mode: "promotion" }), { sqlite: true }],
  ["hyperband", "hyperband", () => Hyperband.layer(resources)],
  ["pbt", "pbt", () => Pbt.layer({ perturbationInterval: 3, maxStep: SchedulerConformance.steps.last }), { sqlite: true }],
  // The suite's history holds 17 trials, each a member: a complete population of 17.
  ["pbt (synch)", "pbt", () => Pbt.layer({ perturbationInterval: 3, maxStep: SchedulerConformance.steps.last, synch: true, population: 17 }), { sqlite: true }]
]

for (const [label, , make, options] of schedulers) SchedulerConformance.suite(label, make, options)

// The suites above assert inside the exported conformance suite; this checks that each layer is the
// scheduler it claims to be, so that a suite never runs silently against another one.
it("each layer provides the scheduler the suite names", async () => {
  const base = Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed: 1 }), Checkpoint.layerMemory)
  for (const [label, name, make] of schedulers) {
    const service = await Effect.runPromise(Effect.scoped(Effect.map(Layer.build(make().pipe(Layer.provide(base))), (c) => Context.get(c, Scheduler.Scheduler))))
    expect(service.name, label).toBe(name)
  }
})
