import { SamplerConformance } from "@tunekit/core/testing"
import * as Gp from "../src/Gp.js"

// Small startup designs and candidate sets, so that most of the 30 trials of each study come from the GP.
SamplerConformance.suite("gp (Sobol' design, log EI)", () => Gp.layer({ nStartupTrials: 6, candidates: 256 }))
SamplerConformance.suite("gp (LHS design, UCB, RBF, constant liar)", () =>
  Gp.layer({ nStartupTrials: 6, candidates: 256, initialDesign: "lhs", acquisition: "ucb", kernel: "rbf", liar: "min" })
)
SamplerConformance.suite("gp (random design, EI)", () => Gp.layer({ nStartupTrials: 6, candidates: 256, initialDesign: "random", acquisition: "ei" }))
