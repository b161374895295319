import { SamplerConformance } from "@tunekit/core/testing"
import * as CmaEs from "../src/CmaEs.js"

SamplerConformance.suite("cmaes", () => CmaEs.layer())
SamplerConformance.suite("cmaes (population 4, no margin, no restarts)", () => CmaEs.layer({ populationSize: 4, margin: false, restart: "none" }))
