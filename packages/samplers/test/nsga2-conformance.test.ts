import { SamplerConformance } from "@tunekit/core/testing"
import * as Nsga2 from "../src/Nsga2.js"

// A small population, so that the 30 trials of each study span several generations.
SamplerConformance.suite("nsga2 (two objectives)", () => Nsga2.layer({ populationSize: 6 }), { objectives: 2 })
SamplerConformance.suite("nsga2 (two objectives, SBX)", () => Nsga2.layer({ populationSize: 6, crossover: "sbx" }), { objectives: 2 })
SamplerConformance.suite("nsga2 (one objective)", () => Nsga2.layer({ populationSize: 6 }))
