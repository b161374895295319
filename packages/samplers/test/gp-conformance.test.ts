import { Effect, Layer } from "effect"
import { expect, it } from "vitest"
import { Sampler } from "@tunekit/core"
import { SamplerConformance } from "@tunekit/core/testing"
import * as Gp from "../src/Gp.js"

// Small startup designs and candidate sets, so that most of the 30 trials of each study come from the GP.
SamplerConformance.suite("gp (LHS design, log EI)", () => Gp.layer({ nStartupTrials: 6, candidates: 256 }))
SamplerConformance.suite("gp (Sobol' design, UCB, RBF, constant liar)", () =>
  Gp.layer({ nStartupTrials: 6, candidates: 256, initialDesign: "sobol", acquisition: "ucb", kernel: "rbf", liar: "min" })
)
SamplerConformance.suite("gp (random design, EI)", () => Gp.layer({ nStartupTrials: 6, candidates: 256, initialDesign: "random", acquisition: "ei" }))

// The suites above assert inside the exported conformance suite; this checks that each layer is the
// sampler it claims to be, so that a suite never runs silently against another one.
it("each layer provides the sampler the suite names", () => {
  const name = (layer: Layer.Layer<Sampler.Sampler>) => Effect.runSync(Effect.provide(Sampler.Sampler, layer)).name
  expect(name(Gp.layer({ nStartupTrials: 6, candidates: 256 }))).toBe("gp")
})
