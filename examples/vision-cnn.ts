// Vision: a small CNN on the 8x8 digits as images, tuned by TPE with median pruning. Convolution
// blocks, filters, kernel, pooling, dropout and the dense head are hyperparameters, with label
// smoothing and a reduce-on-plateau schedule.
//
//   npx tsx --conditions=source examples/vision-cnn.ts --trials 20 --epochs 12
import { Effect, Layer, Option } from "effect"
import { Space, Study, Trial } from "@tunekit/core"
import { Tpe } from "@tunekit/samplers"
import { Median } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { flags, isMain, script } from "./_cli.js"
import { setupOn } from "./_training.js"
import { digits } from "./tfjs-data.js"

export const space = Space.struct({
  blocks: Space.int(1, 2),
  filters: Space.categorical([8, 16, 32] as const),
  kernel: Space.categorical([2, 3, 5] as const),
  pooling: Space.categorical(["max", "avg"] as const),
  dropout: Space.float(0, 0.5),
  dense: Space.categorical([0, 32, 64] as const),
  learningRate: Space.float(3e-4, 1e-2, { log: true }),
  labelSmoothing: Space.float(0, 0.2)
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
    const setup = setupOn(digits({ image: true }), { backend: yield* Backend.Backend, seed: options.seed ?? 0 })
    const result = yield* Study.optimize({
      study: "vision-cnn",
      space,
      metric: "val_accuracy",
      direction: "maximize",
      trials: options.trials ?? 20,
      progress: options.progress ?? true,
      objective: (c: Config) =>
        Train.fit(setup({ type: "cnn", blocks: c.blocks, filters: c.filters, kernel: c.kernel, pooling: c.pooling, dropout: c.dropout, dense: c.dense }, {
          optimizer: { type: "adam", learningRate: c.learningRate },
          loss: { type: "crossEntropy", labelSmoothing: c.labelSmoothing },
          schedule: { type: "plateau", factor: 0.5, patience: 2 },
          earlyStopping: { patience: 4 },
          batchSize: 32,
          epochs: options.epochs ?? 12
        }))
    }).pipe(
      Effect.provide(Layer.merge(Tpe.layer({ nStartupTrials: 6 }), Median.layer({ nStartupTrials: 4, nWarmupSteps: 2 }))),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 3 }))
    )
    const best = Option.getOrThrow(result.best)
    const text = [
      "",
      `best validation accuracy ${best.values![0].toFixed(4)} (trial ${best.number} of ${result.trials.length})`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`
    ].join("\n")
    return { best, trials: result.trials, text }
  }).pipe(Effect.provide(Backend.layerWasm))

if (isMain(import.meta.url)) {
  script("vision-cnn", { trials: flags.trials, epochs: flags.epochs }, main)
}
