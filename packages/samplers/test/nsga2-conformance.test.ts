import { Effect, Layer } from "effect"
import { expect, it } from "vitest"
import { Sampler } from "@tunekit/core"
import { SamplerConformance } from "@tunekit/core/testing"
import * as Nsga2 from "../src/Nsga2.js"

// A small population, so that the 30 trials of each study span several generations.
SamplerConformance.suite("nsga2 (two objectives)", () => Nsga2.layer({ populationSize: 6 }), { objectives: 2 })
SamplerConformance.suite("nsga2 (two objectives, SBX)", () => Nsga2.layer({ populationSize: 6, crossover: "sbx" }), { objectives: 2 })
SamplerConformance.suite("nsga2 (one objective)", () => Nsga2.layer({ populationSize: 6 }))

// The suites above assert inside the exported conformance suite; this checks that each layer is the
// sampler it claims to be, so that a suite never runs silently against another one.
it("each layer provides the sampler the suite names", () => {
  const name = (layer: Layer.Layer<Sampler.Sampler>) => Effect.runSync(Effect.provide(Sampler.Sampler, layer)).name
  expect(name(Nsga2.layer({ populationSize: 6 }))).toBe("nsga2")
})
