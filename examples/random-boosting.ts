// Random search over gradient boosting (XGBoost, WebAssembly) on the diabetes regression data.
// A test part is held out first; each trial is scored by 3-fold cross-validated RMSE on the
// training part (each fold reported as a step); the best config is then refit on the whole
// training part and scored once on the test part.
//
//   npx tsx --conditions=source examples/random-boosting.ts                 # 40 trials into ./tunekit.db
//   npx tsx --conditions=source examples/random-boosting.ts --trials 10 --storage /tmp/b.db
import { Effect, Option } from "effect"
import { flags, isMain, listCommand, script } from "./_cli.js"
import { Space, Study, Trial } from "@tunekit/core"
import { Boosting, CrossValidation, Dataset, Diabetes, Metrics, Model, Split } from "@tunekit/datasets"

export const space = Space.struct({
  nEstimators: Space.int(20, 300, { log: true }),
  learningRate: Space.float(0.01, 0.3, { log: true }),
  maxDepth: Space.int(1, 6),
  minChildWeight: Space.float(0.5, 20, { log: true }),
  subsample: Space.float(0.5, 1),
  colsampleBytree: Space.float(0.5, 1),
  regAlpha: Space.float(1e-3, 10, { log: true }),
  regLambda: Space.float(1e-3, 10, { log: true }),
  gamma: Space.float(0, 5)
})

export type Config = Space.Type<typeof space>

export interface Options {
  readonly trials?: number
  readonly storage?: string
  readonly study?: string
  readonly seed?: number
  readonly progress?: boolean
}

const rmse = (model: Model.Fitted, test: Dataset.Regression) => Metrics.rmse(test.y, model.predict(test.x))

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const storage = options.storage ?? "tunekit.db"
    const study = options.study ?? "random-boosting"
    const { train, test } = Split.holdout(Diabetes.load(), { testFraction: 0.2, seed: 0 })
    const objective = CrossValidation.objective({
      data: train,
      folds: CrossValidation.kFold(train.x.length, { k: 3, seed: 0 }),
      metric: "rmse",
      score: (fold, config: Config) => Boosting.use(fold.train, { ...config, seed: 0 }, (b) => rmse(b, fold.test))
    })
    const result = yield* Study.optimize({
      study,
      space,
      objective,
      metric: "rmse",
      direction: "minimize",
      trials: options.trials ?? 40,
      progress: options.progress ?? true
    }).pipe(Effect.provide(Study.layerDefaults({ seed: options.seed ?? 42, storage })))

    const best = Option.getOrThrow(result.best)
    const config = Trial.paramValues(best) as Config
    const holdout = yield* Effect.promise(() =>
      Boosting.use(train, { ...config, seed: 0 }, (b) => ({ rmse: rmse(b, test), r2: Model.score(b, test) }))
    )
    const text = [
      "",
      `best 3-fold CV RMSE ${best.values![0].toFixed(2)}, trial ${best.number} (this run: ${result.trials.length} trials)`,
      `best config ${JSON.stringify(config)}`,
      `refit on the training part, on the held-out test part: RMSE ${holdout.rmse.toFixed(2)}, R² ${holdout.r2.toFixed(3)}`,
      listCommand(study, storage)
    ].join("\n")
    return { best, trials: result.trials, holdout, text }
  }).pipe(Effect.scoped)

if (isMain(import.meta.url)) {
  script("random-boosting", { trials: flags.trials, storage: flags.storage }, main)
}
