// Population-based training (Jaderberg et al. 2017): a population of MLPs trains on the digits;
// every 2 epochs a member in the bottom quarter copies the weights and optimizer state of a member
// in the top quarter (through the Checkpoint service) and perturbs its learning rate, weight decay
// and dropout. The exploit continues in a new trial, from the donor's checkpoint.
//
//   npx tsx --conditions=source examples/pbt-mlp.ts --population 6 --epochs 12
import { Effect, Layer, Option } from "effect"
import { Checkpoint, Space, Study, Trial } from "@tunekit/core"
import { Pbt } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { flags, isMain, script } from "./_cli.js"
import { mlp, setupOn } from "./_training.js"
import { digits } from "./tfjs-data.js"

export const space = Space.struct({
  learningRate: Space.float(1e-4, 1e-2, { log: true }),
  weightDecay: Space.float(1e-6, 1e-1, { log: true }),
  dropout: Space.float(0, 0.5)
})

export type Config = Space.Type<typeof space>

export interface Options {
  readonly population?: number
  readonly epochs?: number
  readonly interval?: number
  readonly seed?: number
  readonly progress?: boolean
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const setup = setupOn(digits(), { backend: yield* Backend.Backend })
    const checkpoints = yield* Checkpoint.Checkpoint
    const population = options.population ?? 6
    const epochs = options.epochs ?? 12
    const result = yield* Study.optimize({
      study: "pbt-mlp",
      space,
      metric: "val_accuracy",
      direction: "maximize",
      trials: population,
      concurrency: population,
      progress: options.progress ?? true,
      // The architecture is fixed (weights must fit every member); what PBT moves are the
      // optimizer's settings and the dropout rate.
      objective: (c: Config, trial) =>
        Train.fit({
          ...setup(mlp({ layers: 2, width: 64, dropout: c.dropout }), {
            optimizer: { type: "adamw", learningRate: c.learningRate, weightDecay: c.weightDecay },
            batchSize: 64,
            epochs,
            // Each member starts from its own initial weights.
            seed: options.seed ?? trial.number
          }),
          checkpoints: Checkpoint.forTrial(checkpoints, trial)
        })
    }).pipe(
      Effect.provide(Pbt.layer({ perturbationInterval: options.interval ?? 2, quantileFraction: 0.25, maxStep: epochs })),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 17 }))
    )
    const best = Option.getOrThrow(result.best)
    const all = yield* result.study.trials
    const lineage = Pbt.lineageOf(best)
    const text = [
      "",
      `best validation accuracy ${best.values![0].toFixed(4)} (trial ${best.number}, member ${Pbt.memberOf(best)}, generation ${lineage?.generation ?? 0})`,
      `${all.length} trials for a population of ${population}: ${all.filter((t) => Pbt.lineageOf(t) !== undefined).length} continuations after an exploit`,
      `best config (its last stretch) ${JSON.stringify(Trial.paramValues(best))}`
    ].join("\n")
    return { best, trials: all, text }
  }).pipe(Effect.provide(Layer.merge(Backend.layerWasm, Checkpoint.layerMemory)))

if (isMain(import.meta.url)) {
  script("pbt-mlp", { population: flags.population, epochs: flags.epochs }, main)
}
