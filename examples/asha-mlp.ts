// ASHA (Li et al. 2020, "A System for Massively Parallel Hyperparameter Tuning") in its promotion
// variant: every trial trains one epoch, then pauses at the first rung; a paused trial in the top
// third of its rung is promoted and resumes from its checkpoint (weights, optimizer state,
// schedule) to the next rung, 1 -> 3 -> 9 epochs. Random search proposes the configs; a budget of
// configurations lets the study go on promoting until no trial is left to resume.
//
//   npx tsx --conditions=source examples/asha-mlp.ts --configs 18 --epochs 9
import { Effect, Layer, Option } from "effect"
import { Checkpoint, Space, Study, Trial } from "@tunekit/core"
import { Asha } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { flags, isMain, script } from "./_cli.js"
import { mlp, setupOn } from "./_training.js"
import { digits } from "./tfjs-data.js"

export const space = Space.struct({
  layers: Space.int(1, 3),
  width: Space.categorical([32, 64, 128, 256] as const),
  dropout: Space.float(0, 0.5),
  learningRate: Space.float(1e-4, 3e-2, { log: true }),
  momentum: Space.float(0.5, 0.99)
})

export type Config = Space.Type<typeof space>

export interface Options {
  /** Configurations to sample (each may be paused and resumed several times). */
  readonly configs?: number
  /** The maximum resource: epochs of a trial that reaches the top rung. */
  readonly epochs?: number
  readonly seed?: number
  readonly progress?: boolean
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const epochs = options.epochs ?? 9
    const configs = options.configs ?? 18
    // The trainer is a layer: Study.optimize, given no objective, trains each trial with it. It saves
    // each epoch under the trial before reporting it, a promoted trial resumes from its checkpoint,
    // and a trial that reaches the last epoch completes.
    const setup = setupOn(digits(), { seed: options.seed ?? 0 })
    const trainer = Train.layer((c: Config) =>
      setup(mlp(c), { optimizer: { type: "sgd", learningRate: c.learningRate, momentum: c.momentum }, batchSize: 32, epochs })
    )
    const result = yield* Study.optimize({
      study: "asha-mlp",
      space,
      metric: "val_accuracy",
      direction: "maximize",
      // Configurations: a paused trial resuming uses none of the budget.
      trials: configs,
      progress: options.progress ?? true
    }).pipe(
      Effect.provide(trainer),
      Effect.provide(Asha.layer({ minResource: 1, maxResource: epochs, reductionFactor: 3, mode: "promotion" })),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 13 }))
    )
    const best = Option.getOrThrow(result.best)
    const all = yield* result.study.trials
    const reached = (n: number) => all.filter((t) => (Trial.lastStep(t) ?? 0) >= n).length
    const text = [
      "",
      `best validation accuracy ${best.values![0].toFixed(4)} (trial ${best.number})`,
      `${all.length} configurations: ${reached(1)} trained 1 epoch, ${reached(3)} reached 3, ${reached(epochs)} reached ${epochs}`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`
    ].join("\n")
    return { best, trials: all, text }
  }).pipe(Effect.provide(Layer.merge(Backend.layerWasm, Checkpoint.layerMemory)))

if (isMain(import.meta.url)) {
  script("asha-mlp", { configs: flags.configs, epochs: flags.epochs }, main)
}
