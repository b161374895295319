// Grid search with 5-fold cross-validation over a random forest on the breast-cancer data
// (scikit-learn's GridSearchCV, as a tunekit study). Each fold's accuracy is reported as a step,
// so the Wilcoxon pruner (after Optuna's WilcoxonPruner) stops a config that is significantly
// worse than the best one on the folds they share, before its last folds run. The study ends with
// the best config and scikit-learn's cv_results_ table (written as CSV beside the database).
//
//   npx tsx --conditions=source examples/grid-cv-forest.ts                  # the 24-point grid into ./tunekit.db
//   npx tsx --conditions=source examples/grid-cv-forest.ts --storage /tmp/g.db --trees 20
import { Effect, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { flags, isMain, listCommand, script } from "./_cli.js"
import { Export, Rng, Sampler, Space, Storage, Study, Tracker, Trial } from "@tunekit/core"
import { BreastCancer, CrossValidation, Dataset, Model, RandomForest } from "@tunekit/datasets"
import { Pruner, Wilcoxon } from "@tunekit/schedulers"

/** The grid; `trees` replaces the numbers of trees (a smaller budget). */
export const makeSpace = (trees: ReadonlyArray<number> = [30, 100]) =>
  Space.struct({
    nEstimators: Space.categorical(trees),
    maxDepth: Space.categorical([3, 8, 16] as const),
    minSamplesLeaf: Space.categorical([1, 5] as const),
    maxFeatures: Space.categorical(["sqrt", 0.5] as const)
  })

export type Config = Space.Type<ReturnType<typeof makeSpace>>

export interface Options {
  /** Trials to run (default: the whole grid). */
  readonly trials?: number
  readonly trees?: ReadonlyArray<number>
  readonly storage?: string
  readonly study?: string
  readonly seed?: number
  readonly progress?: boolean
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const storage = options.storage ?? "tunekit.db"
    const study = options.study ?? "grid-cv-forest"
    const data = BreastCancer.load()
    const cv = yield* CrossValidation.CrossValidation
    const objective = yield* cv.objective(
      data,
      ({ train, test }: CrossValidation.FoldData<Dataset.Classification>, config: Config) =>
        Model.score(RandomForest.fit(train, { ...config, seed: 0 }), test)
    )
    const result = yield* Study.optimize({
      study,
      space: makeSpace(options.trees),
      objective,
      metric: "score",
      direction: "maximize",
      trials: options.trials,
      progress: options.progress ?? true
    })
    const table = yield* Export.cvRowsOf(result.study)
    const best = Option.getOrThrow(result.best)
    const top = [...table].filter((r) => r.rank_test_score !== null).sort((a, b) => a.rank_test_score! - b.rank_test_score!).slice(0, 5)
    const csvPath = path.join(path.dirname(storage), `${study}.cv_results.csv`)
    fs.writeFileSync(csvPath, Export.cvToCsv(table))
    const pruned = result.trials.filter((t) => t.state === "Pruned").length
    const text = [
      "",
      `best 5-fold accuracy ${best.values![0].toFixed(4)}, trial ${best.number} (this run: ${result.trials.length} trials, ${pruned} pruned)`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`,
      "",
      "rank  mean    std     params",
      ...top.map((r) => `${String(r.rank_test_score).padEnd(5)} ${r.mean_test_score!.toFixed(4)}  ${r.std_test_score!.toFixed(4)}  ${JSON.stringify(r.params)}`),
      "",
      `the full cv_results_ table: ${csvPath}`,
      listCommand(study, storage)
    ].join("\n")
    return { best, trials: result.trials, table, csvPath, text }
  }).pipe(
    Effect.provide(Layer.mergeAll(
      CrossValidation.layer({ _tag: "StratifiedKFold", options: { k: 5, seed: 0 } }),
      Storage.layerSqlite(options.storage ?? "tunekit.db"),
      Sampler.layerGrid(),
      Pruner.layer(Wilcoxon.make({ pThreshold: 0.1 })),
      Tracker.layerNone,
      Rng.layer({ seed: options.seed ?? 42 })
    )),
    Effect.scoped
  )

if (isMain(import.meta.url)) {
  script("grid-cv-forest", { trials: flags.trials, trees: flags.trees, storage: flags.storage }, main)
}
