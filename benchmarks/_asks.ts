// The cost of a suggestion, shared by the overhead benchmarks: a study whose history holds N
// completed trials at uniform random points (written straight to memory storage), then the median
// wall and CPU time of one `ask`. Each asked trial is told at once, so the history stays about N;
// the first asks warm the JIT and are left out.
import { Effect, Layer, Option } from "effect"
import type { Space } from "@tunekit/core"
import { Rng, Sampler, Scheduler, Storage, Study, Tracker } from "@tunekit/core"
import { median } from "./_util.js"

export interface AskOptions {
  readonly study: string
  /** Float parameters only. */
  readonly space: Space.Space<Record<string, number>>
  readonly value: (config: Record<string, number>) => number
  readonly sampler: Layer.Layer<Sampler.Sampler>
  readonly history: number
  readonly asks: number
  /** Asks left out at the start (at most a third of them). */
  readonly warmup: number
}

/** Median milliseconds per `ask`: wall time and CPU time (the machine may be shared). */
export const timeAsks = (o: AskOptions): Promise<{ readonly wall: number; readonly cpu: number }> => {
  const layer = Layer.mergeAll(Storage.layerMemory, o.sampler, Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 1 }))
  return Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const study = yield* Study.open({ study: o.study, space: o.space, direction: "minimize" })
    const g = Rng.generator(7, "history")
    const dists = Object.fromEntries([...study.space!.params])
    for (let i = 0; i < o.history; i++) {
      const params: Record<string, number> = {}
      for (const [k, d] of Object.entries(dists)) {
        if (d._tag !== "Float") throw new Error(`timeAsks draws float parameters only; ${k} is ${d._tag}`)
        params[k] = g.uniform(d.low, d.high)
      }
      const t = yield* storage.createTrial(study.info.id, { state: "Running", params, distributions: dists })
      yield* storage.finishTrial(t.id, { state: "Complete", values: [o.value(params)] })
    }
    const wall: Array<number> = []
    const cpu: Array<number> = []
    for (let i = 0; i < o.asks; i++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const asked = Option.getOrThrow(yield* study.ask)
      wall.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpu.push((c.user + c.system) / 1000)
      yield* study.tell(asked, o.value(asked.config))
    }
    const skip = Math.min(o.warmup, Math.floor(o.asks / 3))
    return { wall: median(wall.slice(skip)), cpu: median(cpu.slice(skip)) }
  }).pipe(Effect.provide(layer))))
}
