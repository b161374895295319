// Cost per suggestion: a study with N completed trials of 5 float parameters (random configs with
// a quadratic value), then the median time of one `ask` (the sampler's work plus the history read,
// on memory storage) over repeated asks.
//   npm run bench -- sampler-overhead [--samplers tpe,random] [--histories 100,1000] [--asks 30]
import { Space } from "@tunekit/core"
import { timeAsks } from "./_asks.js"
import { samplerByName } from "./_samplers.js"
import { emit, parseArgs, table } from "./_util.js"

const space = Space.struct({ a: Space.float(-1, 1), b: Space.float(-1, 1), c: Space.float(-1, 1), d: Space.float(-1, 1), e: Space.float(-1, 1) })

const measure = async (sampler: string, history: number, asks: number) =>
  (await timeAsks({
    study: "overhead",
    space,
    value: (c) => c.a ** 2 + c.b ** 2 + c.c ** 2 + c.d ** 2 + c.e ** 2,
    sampler: samplerByName(sampler)(),
    history,
    asks,
    warmup: 5
  })).wall

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const samplers = typeof opts.samplers === "string" ? opts.samplers.split(",") : ["random", "tpe"]
  const histories = typeof opts.histories === "string" ? opts.histories.split(",").map(Number) : [100, 1000]
  const asks = Number(opts.asks ?? 30)
  const rows: Array<Array<unknown>> = []
  for (const s of samplers) {
    for (const h of histories) {
      const ms = await measure(s, h, asks)
      emit({ bench: "sampler-overhead", sampler: s, history: h, dims: 5, ms_per_suggest: ms })
      rows.push([s, h, 5, ms])
    }
  }
  table("median ms per suggestion", ["sampler", "history", "dims", "ms_per_suggest"], rows)
}
