import { SamplerConformance } from "@tunekit/core/testing"
import * as Qmc from "../src/Qmc.js"

SamplerConformance.suite("sobol", () => Qmc.layer({ kind: "sobol" }))
SamplerConformance.suite("halton", () => Qmc.layer({ kind: "halton" }))
SamplerConformance.suite("lhs", () => Qmc.layer({ kind: "lhs", size: 10 }))
