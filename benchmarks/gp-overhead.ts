// GP-BO's cost per suggestion at the size issue 3 sets its target for: a study with N completed
// trials in D float dimensions (random configs of a sum of squares), then the median time of one
// `ask` on memory storage, with the CPU time beside the wall time (the machine is shared).
// `--additive both` measures the kernel with and without its additive component side by side.
//   npm run bench -- gp-overhead [--histories 100,200] [--dims 6] [--asks 12] [--additive true|false|both]
import { Effect, Layer, Option } from "effect"
import { Rng, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import { Gp } from "@tunekit/samplers"
import { emit, median, parseArgs, table } from "./_util.js"

const measure = (history: number, dims: number, asks: number, additive: boolean) => {
  const space = Space.struct(Object.fromEntries(Array.from({ length: dims }, (_, i) => [`x${i}`, Space.float(0, 1)])))
  const value = (c: Record<string, number>) => Object.values(c).reduce((s, v, i) => s + (v - 0.1 * (i + 1)) ** 2, 0)
  const layer = Layer.mergeAll(Storage.layerMemory, Gp.layer({ additive }), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 1 }))
  return Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const study = yield* Study.open({ study: "gp-overhead", space, direction: "minimize" })
    const g = Rng.generator(7, "history")
    const dists = Object.fromEntries([...study.space!.params])
    for (let i = 0; i < history; i++) {
      const params: Record<string, number> = {}
      for (const k of Object.keys(dists)) params[k] = g.next()
      const t = yield* storage.createTrial(study.info.id, { state: "Running", params, distributions: dists })
      yield* storage.finishTrial(t.id, { state: "Complete", values: [value(params)] })
    }
    const wall: Array<number> = []
    const cpu: Array<number> = []
    for (let i = 0; i < asks; i++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const asked = Option.getOrThrow(yield* study.ask)
      wall.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpu.push((c.user + c.system) / 1000)
      yield* study.tell(asked, value(asked.config as Record<string, number>))
    }
    // The first asks warm the JIT.
    const skip = Math.min(3, Math.floor(asks / 3))
    return { wall: median(wall.slice(skip)), cpu: median(cpu.slice(skip)) }
  }).pipe(Effect.provide(layer))))
}

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
