// Quickstart with TensorFlow.js: an MLP on the digits, tuned by TPE (Bergstra et al. 2011) with
// median pruning (Golovin et al. 2017): each trial trains on the wasm backend and streams its
// validation accuracy per epoch; the pruner stops the trials below the median at the same epoch.
//
// It is `npm start`: the study is stored in ./tunekit.db (`--storage memory` keeps it in memory),
// with a progress line, and ends with the best config and the CLI command that lists the study.
//
//   npm start                                               # 25 trials of up to 15 epochs
//   npm start -- --trials 10 --epochs 5 --storage /tmp/q.db
import { Effect, Layer, Option } from "effect"
import { Options as Check, Space, Study, Trial } from "@tunekit/core"
import { Tpe } from "@tunekit/samplers"
import { Median } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { Main } from "@tunekit/cli"
import { flags, isMain, listCommand, optional, script } from "./_cli.js"
import { mlp, setupOn } from "./_training.js"
import { digits } from "./tfjs-data.js"

export const space = Space.struct({
  layers: Space.int(1, 3),
  width: Space.categorical([64, 128, 256] as const),
  activation: Space.categorical(["relu", "elu", "tanh"] as const),
  dropout: Space.float(0, 0.4),
  batchNorm: Space.categorical([false, true]),
  learningRate: Space.float(3e-4, 1e-2, { log: true }),
  weightDecay: Space.float(1e-6, 1e-2, { log: true }),
  batchSize: Space.categorical([32, 64] as const)
})

export type Config = Space.Type<typeof space>

export interface Options {
  readonly trials?: number
  readonly epochs?: number
  /** An SQLite file (default tunekit.db), or "memory". */
  readonly storage?: string
  readonly seed?: number
  readonly study?: string
  readonly progress?: boolean
  readonly backend?: Backend.Name
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const setup = setupOn(digits(), { backend: yield* Backend.Backend, seed: options.seed ?? 0 })
    const epochs = options.epochs ?? 15
    const study = options.study ?? "quickstart"
    const storage = options.storage ?? "tunekit.db"

    // A trial is a stream of per-epoch metrics; when the pruner says stop, the run loop
    // unsubscribes and training stops after the current batch.
    const objective = (c: Config) =>
      Train.fit(setup(mlp(c), {
        optimizer: { type: "adamw", learningRate: c.learningRate, weightDecay: c.weightDecay },
        schedule: { type: "cosine", warmup: { ratio: 0.05 } },
        batchSize: c.batchSize,
        epochs
      }))

    // The summary's best is the study's, over every run that added to it; so are its counts, read
    // while the storage is open.
    const { result, all } = yield* Study.optimize({
      study,
      space,
      objective,
      metric: "val_accuracy",
      direction: "maximize",
      trials: options.trials ?? 25,
      // The last epoch is a fully trained trial: it completes, whatever the pruner says.
      maxStep: epochs,
      progress: options.progress ?? true
    }).pipe(
      Effect.flatMap((result) => Effect.map(result.study.trials, (all) => ({ result, all }))),
      Effect.provide(Layer.mergeAll(Tpe.layer({ nStartupTrials: 8 }), Median.layer({ nStartupTrials: 5, nWarmupSteps: 3 }))),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 42, ...(storage === "memory" ? {} : { storage }) }))
    )

    const best = Option.getOrThrow(result.best)
    const count = (s: Trial.State) => all.filter((t) => t.state === s).length
    const text = [
      "",
      `best validation accuracy ${best.values![0].toFixed(4)} (trial ${best.number}) over the whole study: ${all.length} trials (${count("Complete")} complete, ${count("Pruned")} pruned, ${count("Failed")} failed), ${result.trials.length} of them in this run`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`,
      ...(storage === "memory" ? [] : [listCommand(study, storage)])
    ].join("\n")
    return { best, trials: result.trials, text }
  }).pipe(Effect.provide(Backend.layer(options.backend ?? "wasm")))

if (isMain(import.meta.url)) {
  script("quickstart", {
    trials: flags.trials,
    epochs: flags.epochs,
    storage: flags.storage,
    backend: optional(Main.option("backend", Check.literals(...Backend.names), { description: "the TensorFlow.js backend (default wasm)", placeholder: Backend.names.join("|") }))
  }, main)
}
