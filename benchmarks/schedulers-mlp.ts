// The schedulers benchmark repeated on a real trainer: an MLP on the digits (TensorFlow.js, wasm),
// one step an epoch. Random search with full training ("none") against the median pruner, ASHA
// and Hyperband on the same configurations (trial n's config depends on the seed and n only).
// `best_final` is the final validation accuracy of the best configuration trained to the last
// epoch; `steps_used` counts the epochs trained by all trials (resumed trials restore their
// checkpoint, so an epoch is never counted twice).
//
//   npm run bench -- schedulers-mlp [--seeds 3] [--first-seed 1] [--configurations 27] [--epochs 27]
//                                   [--asha-min 3] [--hyperband-min 1] [--hyperband-brackets N]
//                                   [--schedulers none,median,asha,hyperband]
//
// Hyperband's default minResource is 1 (s_max = 3 with 27 epochs and eta 3): with s_max = 2
// (minResource 3) every arrangement of its brackets spends about 0.45 of full training's epochs
// (docs/benchmarks-schedulers.md).
import { Checkpoint, Space, Study, Trial } from "@tunekit/core"
import type { Scheduler, Storage } from "@tunekit/core"
import { Asha, Hyperband, Median } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { Effect, Layer } from "effect"
import { mlp, setupOn } from "../examples/_training.js"
import { digits } from "../examples/tfjs-data.js"
import { comparisonServices, noScheduler } from "./_scheduling.js"
import { emit, median, parseArgs, table } from "./_util.js"

const space = Space.struct({
  layers: Space.int(1, 3),
  width: Space.categorical([32, 64, 128] as const),
  dropout: Space.float(0, 0.5),
  learningRate: Space.float(1e-4, 1e-1, { log: true }),
  momentum: Space.float(0.5, 0.99)
})
type Config = Space.Type<typeof space>

interface Setup {
  readonly epochs: number
  readonly configurations: number
  readonly ashaMin: number
  readonly hyperbandMin: number
  readonly hyperbandBrackets: number | undefined
}
type Factory = (s: Setup) => Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>
const schedulers: Record<string, Factory> = {
  none: noScheduler,
  median: () => Median.layer({ nStartupTrials: 5, nWarmupSteps: 3 }),
  asha: (s) => Asha.layer({ minResource: s.ashaMin, maxResource: s.epochs, reductionFactor: 3 }),
  hyperband: (s) =>
    Hyperband.layer({
      minResource: s.hyperbandMin,
      maxResource: s.epochs,
      reductionFactor: 3,
      limit: s.configurations,
      ...(s.hyperbandBrackets === undefined ? {} : { brackets: s.hyperbandBrackets })
    })
}

const once = (name: string, seed: number, setup: Setup) =>
  Effect.gen(function*() {
    const { configurations, epochs } = setup
    // The TensorFlow.js trainer: each trial saves its epochs under its number, a resumed one restores
    // them, and a trial that reaches the last epoch completes.
    const setupRun = setupOn(digits(), { seed })
    const trainer = Train.layer((c: Config) =>
      setupRun(mlp(c), { optimizer: { type: "sgd", learningRate: c.learningRate, momentum: c.momentum }, batchSize: 64, epochs })
    )
    const services = comparisonServices(schedulers[name](setup), configurations, seed)
    const result = yield* Study.optimize({
      study: "schedulers-mlp",
      space,
      metric: "val_accuracy",
      direction: "maximize"
    }).pipe(Effect.provide(trainer), Effect.provide(services))
    const trials = yield* result.study.trials
    let best: number | undefined
    for (const t of trials) {
      if (t.state !== "Complete" || Trial.lastStep(t) !== epochs) continue
      if (best === undefined || t.values![0] > best) best = t.values![0]
    }
    return { best_final: best ?? NaN, steps_used: trials.reduce((a, t) => a + t.intermediate.length, 0), configurations: trials.length }
  }).pipe(Effect.provide(Layer.merge(Backend.layerWasm, Checkpoint.layerMemory)))

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const seeds = Number(opts.seeds ?? 3)
  const firstSeed = Number(opts["first-seed"] ?? 1)
  const epochs = Number(opts.epochs ?? 27)
  const configurations = Number(opts.configurations ?? 27)
  const setup: Setup = {
    epochs,
    configurations,
    ashaMin: Number(opts["asha-min"] ?? 3),
    hyperbandMin: Number(opts["hyperband-min"] ?? 1),
    hyperbandBrackets: opts["hyperband-brackets"] === undefined ? undefined : Number(opts["hyperband-brackets"])
  }
  const names = String(opts.schedulers ?? Object.keys(schedulers).join(",")).split(",")
  for (const n of names) if (!(n in schedulers)) throw new Error(`unknown scheduler ${n}; known: ${Object.keys(schedulers).join(", ")}`)
  const results = new Map<string, Array<{ best_final: number; steps_used: number }>>()
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    // Seed by seed, so that the machine's load falls alike on every scheduler.
    for (const name of names) {
      const r = await Effect.runPromise(Effect.scoped(once(name, seed, setup)))
      emit({ bench: "schedulers", problem: "mlp-digits", scheduler: name, direction: "maximize", seed, best_final: r.best_final, steps_used: r.steps_used })
      results.set(name, [...(results.get(name) ?? []), r])
    }
  }
  const base = results.get("none")
  table(
    `schedulers on the digits MLP: ${configurations} configurations, ${epochs} epochs max, eta 3, minResource asha ${setup.ashaMin} hyperband ${setup.hyperbandMin}${
      setup.hyperbandBrackets === undefined ? "" : ` (${setup.hyperbandBrackets} brackets)`
    }, medians over seeds ${firstSeed}-${firstSeed + seeds - 1}`,
    ["scheduler", "best_final", "gap (median of seeds)", "steps_used", "steps_vs_none"],
    [...results].map(([name, rs]) => {
      const gaps = base ? rs.map((r, i) => (100 * (base[i].best_final - r.best_final)) / base[i].best_final) : []
      const ratios = base ? rs.map((r, i) => r.steps_used / base[i].steps_used) : []
      return [name, median(rs.map((r) => r.best_final)), base ? `${median(gaps).toFixed(2)}%` : "", median(rs.map((r) => r.steps_used)), base ? median(ratios).toFixed(3) : ""]
    })
  )
}
