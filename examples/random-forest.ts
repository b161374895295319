// Random search over a random forest on the breast-cancer data, scored by holdout accuracy, stored
// in an SQLite file with a progress line (the first quickstart, before the TensorFlow.js one).
//
//   npx tsx --conditions=source examples/random-forest.ts                 # 30 trials into ./tunekit.db
//   npx tsx --conditions=source examples/random-forest.ts --trials 10 --storage /tmp/q.db
import { Effect, Option } from "effect"
import { flags, isMain, listCommand, script } from "./_cli.js"
import { Space, Study, Trial } from "@tunekit/core"
import { BreastCancer, Model, RandomForest, Split } from "@tunekit/datasets"

export const space = Space.struct({
  nEstimators: Space.int(10, 200, { log: true }),
  maxDepth: Space.int(2, 16),
  minSamplesLeaf: Space.int(1, 10),
  maxFeatures: Space.categorical(["sqrt", "log2", "all"]),
  bootstrap: Space.categorical([true, false])
})

export type Config = Space.Type<typeof space>

export interface Options {
  readonly trials?: number
  readonly storage?: string
  readonly seed?: number
  readonly study?: string
  readonly progress?: boolean
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const storage = options.storage ?? "tunekit.db"
    const study = options.study ?? "random-forest"
    // The test part is held out once (stratified, seeded); every trial is scored on it.
    const { train, test } = Split.holdout(BreastCancer.load(), { testFraction: 0.25, seed: 0, stratify: true })
    const objective = (config: Config) => Model.score(RandomForest.fit(train, { ...config, seed: 0 }), test)

    const result = yield* Study.optimize({
      study,
      space,
      objective,
      direction: "maximize",
      trials: options.trials ?? 30,
      progress: options.progress ?? true
    }).pipe(Effect.provide(Study.layerDefaults({ seed: options.seed ?? 42, storage })))

    const best = Option.getOrThrow(result.best)
    const text = [
      "",
      `best holdout accuracy ${best.values![0].toFixed(4)}, trial ${best.number} (this run: ${result.trials.length} trials)`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`,
      listCommand(study, storage)
    ].join("\n")
    return { best, trials: result.trials, text }
  }).pipe(Effect.scoped)

if (isMain(import.meta.url)) {
  script("random-forest", { trials: flags.trials, storage: flags.storage }, main)
}
