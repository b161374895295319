// Bayesian optimization of an MLP on the digits: a Gaussian-process surrogate (Matern 5/2, ARD)
// with log expected improvement (Snoek et al. 2012; Ament et al. 2023) proposes each config from
// the validation losses of the trials so far. The space is continuous, where a GP does best.
//
//   npx tsx --conditions=source examples/mlp-bayes.ts --trials 25 --epochs 15
import { Effect, Option } from "effect"
import { Space, Study, Trial } from "@tunekit/core"
import { Gp } from "@tunekit/samplers"
import { Backend, Train } from "@tunekit/tfjs"
import { flags, isMain, script } from "./_cli.js"
import { mlp, setupOn } from "./_training.js"
import { digits } from "./tfjs-data.js"

export const space = Space.struct({
  learningRate: Space.float(1e-4, 3e-2, { log: true }),
  width: Space.int(16, 256, { log: true }),
  layers: Space.int(1, 3),
  dropout: Space.float(0, 0.5),
  l2: Space.float(1e-6, 1e-2, { log: true })
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
    const setup = setupOn(digits(), { backend: yield* Backend.Backend, seed: options.seed ?? 0 })
    const result = yield* Study.optimize({
      study: "mlp-bayes",
      space,
      // The objective is the last epoch's validation loss (smoother than accuracy, which a GP prefers).
      metric: "val_loss",
      direction: "minimize",
      trials: options.trials ?? 25,
      progress: options.progress ?? true,
      objective: (c: Config) =>
        Train.fit(setup(mlp(c), {
          optimizer: { type: "sgd", learningRate: c.learningRate * 10, momentum: 0.9, nesterov: true },
          l2: c.l2,
          clipNorm: 5,
          schedule: { type: "step", everyEpochs: 5, gamma: 0.5 },
          batchSize: 32,
          epochs: options.epochs ?? 15
        }))
    }).pipe(
      Effect.provide(Gp.layer({ nStartupTrials: 6 })),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 7 }))
    )
    const best = Option.getOrThrow(result.best)
    const accuracy = best.intermediate.at(-1)?.values.val_accuracy ?? NaN
    const text = [
      "",
      `best validation loss ${best.values![0].toFixed(4)} (accuracy ${accuracy.toFixed(4)}, trial ${best.number} of ${result.trials.length})`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`
    ].join("\n")
    return { best, trials: result.trials, text }
  }).pipe(Effect.provide(Backend.layerWasm))

if (isMain(import.meta.url)) {
  script("mlp-bayes", { trials: flags.trials, epochs: flags.epochs }, main)
}
