// Hyperparameter transfer: the best configs of earlier tasks are saved in the transfer database,
// and a new task starts from the config of the task most like it.
//
// - mnist_cnn's best: learning rate 0.001, dropout 0.2, batch size 64 (accuracy 0.99);
// - cifar10_resnet's best: learning rate 0.01, dropout 0.3, batch size 128 (accuracy 0.94);
// - fashion_mnist_cnn asks for its initial config with a similarity function that gives 0.8 to two
//   tasks whose names contain "cnn", 0.9 to two containing "resnet", and 0.1 otherwise: mnist_cnn's
//   config is the one, and a study starts from it (a small CNN, trained on the bundled 8x8 digits
//   in place of Fashion-MNIST, which is not bundled), then TPE carries on.
//
//   npx tsx --conditions=source examples/transfer-warm-start.ts --trials 8 --epochs 6
import { Effect, Layer, Option } from "effect"
import { Space, Study, Trial } from "@tunekit/core"
import { Tpe } from "@tunekit/samplers"
import { Backend, Train } from "@tunekit/tfjs"
import { Transfer } from "@tunekit/transfer"
import { flags, isMain, script } from "./_cli.js"
import { setupOn } from "./_training.js"
import { digits } from "./tfjs-data.js"

export const space = Space.struct({
  learningRate: Space.float(1e-4, 1e-1, { log: true }),
  dropout: Space.float(0, 0.5),
  batchSize: Space.categorical([32, 64, 128, 256] as const)
})

export type Config = Space.Type<typeof space>

/** The similarity of two tasks, by their names. */
export const taskSimilarity = (a: Transfer.Task, b: Transfer.Task): number =>
  a.name.includes("cnn") && b.name.includes("cnn") ? 0.8 : a.name.includes("resnet") && b.name.includes("resnet") ? 0.9 : 0.1

export interface Options {
  readonly trials?: number
  readonly epochs?: number
  readonly seed?: number
  readonly progress?: boolean
  /** The transfer database (default: in memory). */
  readonly database?: string
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    // What earlier tuning found.
    yield* Transfer.saveBest({ task: "mnist_cnn", space, config: { learningRate: 0.001, dropout: 0.2, batchSize: 64 }, value: 0.99, metric: "accuracy", direction: "maximize" })
    yield* Transfer.saveBest({ task: "cifar10_resnet", space, config: { learningRate: 0.01, dropout: 0.3, batchSize: 128 }, value: 0.94, metric: "accuracy", direction: "maximize" })

    // The new task's initial config: the best config of the most similar task.
    const start = { task: "fashion_mnist_cnn", space, k: 1, similarity: taskSimilarity }
    const near = yield* Transfer.similar("fashion_mnist_cnn", 2, { similarity: taskSimilarity })
    const [initial] = yield* Transfer.initialConfigs(start)

    // A study that starts from it.
    const setup = setupOn(digits({ image: true }), { backend: yield* Backend.Backend, seed: options.seed ?? 0 })
    const result = yield* Study.optimize({
      study: "fashion_mnist_cnn",
      space,
      metric: "val_accuracy",
      direction: "maximize",
      trials: options.trials ?? 8,
      progress: options.progress ?? true,
      objective: (c: Config) =>
        Train.fit(setup({ type: "cnn", blocks: 1, filters: 16, kernel: 3, pooling: "max", dropout: c.dropout, dense: 32 }, {
          optimizer: { type: "adam", learningRate: c.learningRate },
          loss: { type: "crossEntropy" },
          batchSize: c.batchSize,
          epochs: options.epochs ?? 6
        }))
    }).pipe(
      Effect.provide(Transfer.warmStart(start, Tpe.layer({ nStartupTrials: 4 }))),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 7 }))
    )
    const best = Option.getOrThrow(result.best)
    const text = [
      `tasks like fashion_mnist_cnn: ${near.map((s) => `${s.task.name} (${s.similarity})`).join(", ")}`,
      `initial config from ${initial.task}: ${JSON.stringify(initial.config)}`,
      `trial 0 ran ${JSON.stringify(Trial.paramValues(result.trials[0]))}: validation accuracy ${result.trials[0].values?.[0]?.toFixed(4) ?? "-"}`,
      `best validation accuracy ${best.values![0].toFixed(4)} (trial ${best.number} of ${result.trials.length}): ${JSON.stringify(Trial.paramValues(best))}`
    ].join("\n")
    return { initial, near, trials: result.trials, best, text }
  }).pipe(
    Effect.provide(Layer.merge(Backend.layerWasm, options.database === undefined ? Transfer.layerMemory : Transfer.layerSqlite(options.database)))
  )

if (isMain(import.meta.url)) {
  script("transfer-warm-start", { trials: flags.trials, epochs: flags.epochs }, main)
}
