// The tree models of @tunekit/datasets on the bundled data: 5-fold cross-validated score
// (accuracy, or R² on diabetes) and the median time of one fit, for each engine.
//
//   npm run bench -- trees                          # every model on breast-cancer, wine, digits, diabetes
//   npm run bench -- trees --datasets wine --seeds 3
//
// Prints {"bench":"trees","dataset":...,"model":...,"cv_score":...,"fit_s":...} lines and a table.
import { BreastCancer, CrossValidation, Dataset, Diabetes, Digits, Model, RandomForest, DecisionTree, Boosting, Wine } from "@tunekit/datasets"
import { emit, median, parseArgs, table } from "./_util.js"

type Fit = (train: Dataset.Tabular, test: Dataset.Tabular, seed: number) => Promise<number>

const models: ReadonlyArray<readonly [string, Fit, (ds: string) => boolean]> = [
  ["tree (tunekit)", async (tr, te) => Model.score(DecisionTree.fit(tr, {}), te), () => true],
  // ml-cart's scan is quadratic in the rows of a node: minutes on the digits, so left out there.
  ["tree (ml-cart)", async (tr, te) => Model.score(DecisionTree.fit(tr, { engine: "ml-cart" }), te), (ds) => ds !== "digits"],
  ["forest 100 (tunekit)", async (tr, te, s) => Model.score(RandomForest.fit(tr, { nEstimators: 100, seed: s }), te), () => true],
  ["forest 100 (ml-cart)", async (tr, te, s) => Model.score(RandomForest.fit(tr, { nEstimators: 100, seed: s, engine: "ml-cart" }), te), (ds) => ds !== "digits"],
  ["forest 100 (ml-random-forest)", async (tr, te, s) => Model.score(RandomForest.fit(tr, { nEstimators: 100, seed: s, engine: "ml-random-forest" }), te), (ds) => ds !== "digits"],
  ["xgboost 100 (wasm)", (tr, te, s) => Boosting.score(tr, te, { nEstimators: 100, maxDepth: 4, learningRate: 0.1, seed: s }), () => true]
]

const datasets: Record<string, () => Dataset.Tabular> = {
  "breast-cancer": BreastCancer.load,
  wine: Wine.load,
  digits: Digits.load,
  diabetes: Diabetes.load
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const names = typeof opts.datasets === "string" ? opts.datasets.split(",") : Object.keys(datasets)
  const seeds = Number(opts.seeds ?? 1)
  const rows: Array<Array<unknown>> = []
  for (const name of names) {
    const data = datasets[name]()
    for (const [model, fit, applies] of models) {
      if (!applies(name)) continue
      const scores: Array<number> = []
      const times: Array<number> = []
      for (let seed = 0; seed < seeds; seed++) {
        const folds = data._tag === "Classification"
          ? CrossValidation.stratifiedKFold(data.y, { k: 5, seed })
          : CrossValidation.kFold(data.x.length, { k: 5, seed })
        for (const f of folds) {
          const t0 = performance.now()
          scores.push(await fit(Dataset.subset(data, f.train), Dataset.subset(data, f.test), seed))
          times.push((performance.now() - t0) / 1000)
        }
      }
      const cv = scores.reduce((a, b) => a + b, 0) / scores.length
      const record = { bench: "trees", dataset: name, model, metric: data._tag === "Classification" ? "accuracy" : "r2", cv_score: cv, fit_s: median(times), seeds }
      emit(record)
      rows.push([name, model, record.metric, cv, median(times)])
    }
  }
  table("tree models, 5-fold CV (median fit time over folds and seeds)", ["dataset", "model", "metric", "cv score", "fit s"], rows)
}
