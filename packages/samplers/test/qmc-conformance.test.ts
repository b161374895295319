import { Effect, Layer } from "effect"
import { expect, it } from "vitest"
import { Sampler } from "@tunekit/core"
import { SamplerConformance } from "@tunekit/core/testing"
import * as Qmc from "../src/Qmc.js"

SamplerConformance.suite("sobol", () => Qmc.layer({ kind: "sobol" }))
SamplerConformance.suite("halton", () => Qmc.layer({ kind: "halton" }))
SamplerConformance.suite("lhs", () => Qmc.layer({ kind: "lhs", size: 10 }))

// The suites above assert inside the exported conformance suite; this checks that each layer is the
// sampler it claims to be, so that a suite never runs silently against another one.
it("each layer provides the sampler the suite names", () => {
  const name = (layer: Layer.Layer<Sampler.Sampler>) => Effect.runSync(Effect.provide(Sampler.Sampler, layer)).name
  expect(name(Qmc.layer({ kind: "sobol" }))).toBe("sobol")
  expect(name(Qmc.layer({ kind: "halton" }))).toBe("halton")
  expect(name(Qmc.layer({ kind: "lhs", size: 10 }))).toBe("lhs")
})
