import { Effect, Layer } from "effect"
import { expect, it } from "vitest"
import { Sampler } from "@tunekit/core"
import { SamplerConformance } from "@tunekit/core/testing"
import * as Tpe from "../src/Tpe.js"

SamplerConformance.suite("random", () => Sampler.layerRandom)
SamplerConformance.suite("tpe (multivariate, groups)", () => Tpe.layer({ nStartupTrials: 8 }))
SamplerConformance.suite("tpe (univariate)", () => Tpe.layer({ nStartupTrials: 8, multivariate: false }))
SamplerConformance.suite("tpe (several objectives)", () => Tpe.layer({ nStartupTrials: 8 }), { objectives: 2 })

// The suites above assert inside the exported conformance suite; this checks that each layer is the
// sampler it claims to be, so that a suite never runs silently against another one.
it("each layer provides the sampler the suite names", () => {
  const name = (layer: Layer.Layer<Sampler.Sampler>) => Effect.runSync(Effect.provide(Sampler.Sampler, layer)).name
  expect(name(Sampler.layerRandom)).toBe("random")
  expect(name(Tpe.layer({ nStartupTrials: 8 }))).toBe("tpe")
})
