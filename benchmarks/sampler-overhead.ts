// Cost per suggestion: a study with N completed trials of 5 float parameters (random configs with
// a quadratic value), then the median time of one `ask` (the sampler's work plus the history read,
// on memory storage) over repeated asks.
//   npm run bench -- sampler-overhead [--samplers tpe,random] [--histories 100,1000] [--asks 30]
import { Effect, Layer, Option } from "effect"
import { Rng, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import { samplerByName } from "./_samplers.js"
import { emit, median, parseArgs, table } from "./_util.js"

const space = Space.struct({ a: Space.float(-1, 1), b: Space.float(-1, 1), c: Space.float(-1, 1), d: Space.float(-1, 1), e: Space.float(-1, 1) })
const value = (c: Space.Type<typeof space>) => c.a ** 2 + c.b ** 2 + c.c ** 2 + c.d ** 2 + c.e ** 2

const measure = (sampler: string, history: number, asks: number) => {
  const layer = Layer.mergeAll(Storage.layerMemory, samplerByName(sampler)(), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 1 }))
  return Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const study = yield* Study.open({ study: "overhead", space, direction: "minimize" })
    // The history, written straight to storage: N complete trials at random points.
    const g = Rng.generator(7, "history")
    const dists = Object.fromEntries([...study.space!.params])
    for (let i = 0; i < history; i++) {
      const params: Record<string, number> = {}
      for (const k of Object.keys(dists)) params[k] = g.uniform(-1, 1)
      const t = yield* storage.createTrial(study.info.id, { state: "Running", params, distributions: dists })
      yield* storage.finishTrial(t.id, { state: "Complete", values: [value(params as never)] })
    }
    const times: Array<number> = []
    for (let i = 0; i < asks; i++) {
      const t0 = performance.now()
      const asked = Option.getOrThrow(yield* study.ask)
      times.push(performance.now() - t0)
      // Told right away so the next ask sees a finished history of about N trials.
      yield* study.tell(asked, value(asked.config))
    }
    // The first asks warm the JIT; the steady state is what a long study sees.
    return median(times.slice(Math.min(5, Math.floor(asks / 3))))
  }).pipe(Effect.provide(layer))))
}

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
