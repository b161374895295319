// The study the distributed benchmark's `tunekit worker` processes run: 5 floats, random sampling
// (so that only the framework and storage are measured), an objective that sleeps BENCH_MS.
import { Layer } from "effect"
import { Rng, Sampler, Space } from "@tunekit/core"
import { Worker } from "@tunekit/cli"

const ms = Number(process.env.BENCH_MS ?? 0)
const sleep = (d) => new Promise((resolve) => setTimeout(resolve, d))

export const study = Worker.define({
  space: Space.struct({ a: Space.float(-1, 1), b: Space.float(-1, 1), c: Space.float(-1, 1), d: Space.float(-1, 1), e: Space.float(-1, 1) }),
  objective: async (c) => {
    if (ms > 0) await sleep(ms)
    return c.a * c.a + c.b * c.b + c.c * c.c + c.d * c.d + c.e * c.e
  },
  layer: Layer.merge(Sampler.layerRandom, Rng.layer({ seed: 1 }))
})
