import { Effect, Layer } from "effect"
import { expect, it } from "vitest"
import { Sampler } from "@tunekit/core"
import { SamplerConformance } from "@tunekit/core/testing"
import * as CmaEs from "../src/CmaEs.js"

SamplerConformance.suite("cmaes", () => CmaEs.layer())
SamplerConformance.suite("cmaes (population 4, no margin, no restarts)", () => CmaEs.layer({ populationSize: 4, margin: false, restart: "none" }))

// The suites above assert inside the exported conformance suite; this checks that each layer is the
// sampler it claims to be, so that a suite never runs silently against another one.
it("each layer provides the sampler the suite names", () => {
  const name = (layer: Layer.Layer<Sampler.Sampler>) => Effect.runSync(Effect.provide(Sampler.Sampler, layer)).name
  expect(name(CmaEs.layer())).toBe("cmaes")
})
