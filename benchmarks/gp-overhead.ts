// GP-BO's cost per suggestion at the size issue 3 sets its target for: a study with N completed
// trials in D float dimensions (random configs of a sum of squares), then the median time of one
// `ask` on memory storage, with the CPU time beside the wall time (the machine is shared).
// `--additive both` measures the kernel with and without its additive component side by side.
//   npm run bench -- gp-overhead [--histories 100,200] [--dims 6] [--asks 12] [--additive true|false|both]
import { Space } from "@tunekit/core"
import { Gp } from "@tunekit/samplers"
import { timeAsks } from "./_asks.js"
import { emit, parseArgs, table } from "./_util.js"

const measure = (history: number, dims: number, asks: number, additive: boolean) =>
  timeAsks({
    study: "gp-overhead",
    space: Space.struct(Object.fromEntries(Array.from({ length: dims }, (_, i) => [`x${i}`, Space.float(0, 1)]))),
    value: (c) => Object.values(c).reduce((s, v, i) => s + (v - 0.1 * (i + 1)) ** 2, 0),
    sampler: Gp.layer({ additive }),
    history,
    asks,
    warmup: 3
  })

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const histories = typeof opts.histories === "string" ? opts.histories.split(",").map(Number) : [100, 200]
  const dims = Number(opts.dims ?? 6)
  const asks = Number(opts.asks ?? 12)
  const additive = opts.additive === "both" ? [true, false] : [opts.additive !== "false"]
  const rows: Array<Array<unknown>> = []
  for (const h of histories) {
    for (const a of additive) {
      const { wall, cpu } = await measure(h, dims, asks, a)
      emit({ bench: "gp-overhead", sampler: "gp", additive: a, history: h, dims, ms_per_suggest: wall, cpu_ms_per_suggest: cpu })
      rows.push(["gp", a, h, dims, wall, cpu])
    }
  }
  table("GP: median ms per suggestion", ["sampler", "additive", "history", "dims", "ms_per_suggest", "cpu_ms"], rows)
}
