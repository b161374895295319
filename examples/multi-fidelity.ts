// Multi-fidelity over epochs and data fraction: BOHB (Falkner et al. 2018) with Hyperband's
// brackets. A trial's resource r counts epochs, and epoch r trains on a growing share of the
// training data, min(1, r / 3): the first rung costs a third of an epoch, so that cheap
// evaluations screen many configs and the survivors get all of the data and more epochs.
//
//   npx tsx --conditions=source examples/multi-fidelity.ts --epochs 9
import { Effect, Layer, Option } from "effect"
import { Space, Study, Trial } from "@tunekit/core"
import { Bohb, Budget, Fidelity, Hyperband } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { flags, isMain, script } from "./_cli.js"
import { mlp, setupOn } from "./_training.js"
import { digits } from "./tfjs-data.js"

export const space = Space.struct({
  layers: Space.int(1, 3),
  width: Space.int(16, 256, { log: true }),
  dropout: Space.float(0, 0.5),
  learningRate: Space.float(1e-4, 1e-2, { log: true }),
  batchSize: Space.categorical([16, 32, 64] as const)
})

export type Config = Space.Type<typeof space>

/** The fidelity: resource r is epoch r, trained on the share min(1, r / 3) of the data. */
export const fidelity = (maxEpochs: number) =>
  Fidelity.make("epochs and data", { minResource: 1, maxResource: maxEpochs, reductionFactor: 3 }, (r) => ({
    epochs: Math.round(r),
    dataFraction: Math.min(1, r / 3)
  }))

export interface Options {
  readonly epochs?: number
  /** Configurations to sample (default: one Hyperband iteration's worth). */
  readonly configs?: number
  readonly seed?: number
  readonly progress?: boolean
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const setup = setupOn(digits(), { backend: yield* Backend.Backend, seed: options.seed ?? 0 })
    const f = fidelity(options.epochs ?? 9)
    const resources = Fidelity.schedulerOptions(f)
    const configs = options.configs ?? Hyperband.plan(resources).configurations
    const result = yield* Study.optimize({
      study: "multi-fidelity",
      space,
      metric: "val_accuracy",
      direction: "maximize",
      trials: configs,
      progress: options.progress ?? true,
      objective: (c: Config) =>
        Train.fit(setup(mlp(c), {
          optimizer: { type: "adam", learningRate: c.learningRate },
          batchSize: c.batchSize,
          epochs: f.maxResource,
          dataFraction: (epoch) => f.at(epoch).dataFraction
        }))
    }).pipe(
      Effect.provide(
        Layer.merge(
          Budget.layerConfigurations(configs).pipe(Layer.provide(Bohb.layer(resources))),
          Hyperband.layer(resources)
        )
      ),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 19 }))
    )
    const best = Option.getOrThrow(result.best)
    const all = yield* result.study.trials
    const rows = all.reduce((a, t) => a + (t.intermediate.reduce((s, m) => s + f.at(m.step).dataFraction, 0)), 0)
    const text = [
      "",
      `best validation accuracy ${best.values![0].toFixed(4)} (trial ${best.number} of ${all.length})`,
      `cost: ${rows.toFixed(1)} full-data epochs in all, against ${all.length * f.maxResource} without early stopping and data fractions`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`
    ].join("\n")
    return { best, trials: all, text }
  }).pipe(Effect.provide(Backend.layerWasm))

if (isMain(import.meta.url)) {
  script("multi-fidelity", { epochs: flags.epochs, configs: flags.configs }, main)
}
