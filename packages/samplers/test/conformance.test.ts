import { Sampler } from "@tunekit/core"
import { SamplerConformance } from "@tunekit/core/testing"
import * as Tpe from "../src/Tpe.js"

SamplerConformance.suite("random", () => Sampler.layerRandom)
SamplerConformance.suite("tpe (multivariate, groups)", () => Tpe.layer({ nStartupTrials: 8 }))
SamplerConformance.suite("tpe (univariate)", () => Tpe.layer({ nStartupTrials: 8, multivariate: false }))
SamplerConformance.suite("tpe (several objectives)", () => Tpe.layer({ nStartupTrials: 8 }), { objectives: 2 })
