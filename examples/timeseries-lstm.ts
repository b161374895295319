// Time series: forecasting next year's sunspot number from the last years with an LSTM or a GRU.
// The cell, its size, depth, direction and dropout, the window length, and the loss (MSE, MAE or
// Huber) are tuned by TPE; every trial is scored on the same thing, the validation MAE in
// sunspot numbers, on the last 20% of the years (a chronological split: no look-ahead).
//
//   npx tsx --conditions=source examples/timeseries-lstm.ts --trials 20 --epochs 30
import { Effect, Layer, Option } from "effect"
import { Space, Study, Trial } from "@tunekit/core"
import { Tpe } from "@tunekit/samplers"
import { Median } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { map } from "rxjs"
import { flags, isMain, script } from "./_cli.js"
import { setupOn } from "./_training.js"
import { sunspots } from "./tfjs-data.js"

export const space = Space.struct({
  cell: Space.categorical(["lstm", "gru"] as const),
  units: Space.int(8, 64, { log: true }),
  layers: Space.int(1, 2),
  bidirectional: Space.categorical([false, true]),
  dropout: Space.float(0, 0.3),
  sequenceLength: Space.categorical([6, 11, 22] as const),
  loss: Space.categorical(["mse", "mae", "huber"] as const),
  learningRate: Space.float(1e-3, 3e-2, { log: true })
})

export type Config = Space.Type<typeof space>

export interface Options {
  readonly trials?: number
  readonly epochs?: number
  readonly seed?: number
  readonly progress?: boolean
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const backend = yield* Backend.Backend
    const windows = new Map([6, 11, 22].map((n) => [n, sunspots(n)]))
    const result = yield* Study.optimize({
      study: "sunspots",
      space,
      metric: "val_mae_sunspots",
      direction: "minimize",
      trials: options.trials ?? 20,
      progress: options.progress ?? true,
      objective: (c: Config) => {
        const data = windows.get(c.sequenceLength)!
        const setup = setupOn(data, { backend, seed: options.seed ?? 0 })
        return Train.fit(setup({ type: "rnn", cell: c.cell, units: c.units, layers: c.layers, bidirectional: c.bidirectional, dropout: c.dropout, sequenceLength: c.sequenceLength }, {
          optimizer: { type: "adam", learningRate: c.learningRate },
          loss: c.loss === "huber" ? { type: "huber", delta: 1 } : { type: c.loss },
          clipNorm: 1,
          schedule: { type: "cosine" },
          batchSize: 16,
          epochs: options.epochs ?? 30
        })).pipe(
          // The losses differ between trials; the MAE in sunspot numbers is comparable.
          map((m) => ({ step: m.step, values: { ...m.values, val_mae_sunspots: m.values.val_mae * data.scale } }))
        )
      }
    }).pipe(
      Effect.provide(Layer.merge(Tpe.layer({ nStartupTrials: 6 }), Median.layer({ nStartupTrials: 4, nWarmupSteps: 5 }))),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 11 }))
    )
    const best = Option.getOrThrow(result.best)
    const text = [
      "",
      `best validation MAE ${best.values![0].toFixed(2)} sunspots (trial ${best.number} of ${result.trials.length})`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`
    ].join("\n")
    return { best, trials: result.trials, text }
  }).pipe(Effect.provide(Backend.layerWasm))

if (isMain(import.meta.url)) {
  script("timeseries-lstm", { trials: flags.trials, epochs: flags.epochs }, main)
}
