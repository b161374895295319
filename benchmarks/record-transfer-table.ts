// Records the transfer benchmark's real family (see _transferTable.ts): XGBoost over the grid on
// each bundled tabular dataset, scored on a stratified holdout (30%, seed 0): the log loss for
// classification (continuous, where the error rate ties at 0 for many configs), RMSE for diabetes. The digits are cut to their first 600 rows (a fit on all 1,797
// takes 2 s). Takes a few CPU minutes; run it with `nice`.
//
//   nice -n 10 npm run bench -- record-transfer-table
import { Boosting, BreastCancer, Dataset, Diabetes, Digits, Iris, Metrics, type Model, Split, Wine } from "@tunekit/datasets"
import { MetaFeatures } from "@tunekit/transfer"
import { configs, FORMAT, type TableTask, write } from "./_transferTable.js"

const datasets = (): ReadonlyArray<Dataset.Tabular> => [
  Iris.load(),
  Wine.load(),
  BreastCancer.load(),
  Dataset.subset(Digits.load(), Array.from({ length: 600 }, (_, i) => i)),
  Diabetes.load()
]

export const main = async (): Promise<void> => {
  const cpu0 = process.cpuUsage()
  const tasks: Array<TableTask> = []
  const grid = configs()
  for (const data of datasets()) {
    const t0 = Date.now()
    const classification = data._tag === "Classification"
    const { train, test } = Split.holdout(data as Dataset.Classification, { testFraction: 0.3, seed: 0, stratify: classification })
    const values: Array<number> = []
    for (const c of grid) {
      const v = await Boosting.use(train, { ...c, seed: 0 }, (b) =>
        classification
          ? Metrics.logLoss(test.y, (b as Model.Classifier).predictProba(test.x))
          : Metrics.rmse(test.y, (b as Model.Regressor).predict(test.x)))
      values.push(v)
    }
    const name = `${data.name}-boosting`
    tasks.push({ name, metric: classification ? "logloss" : "rmse", direction: "minimize", metaFeatures: { ...MetaFeatures.describe(data) }, values })
    process.stderr.write(`${name}: ${grid.length} configs in ${((Date.now() - t0) / 1000).toFixed(1)} s, best ${Math.min(...values).toFixed(4)}\n`)
  }
  const cpu = process.cpuUsage(cpu0)
  write({
    format: FORMAT,
    description: "XGBoost (wasm) over a grid of 240 configs on the bundled tabular datasets (digits: its first 600 rows); holdout log loss (classification) or RMSE (diabetes), 30% stratified, seed 0",
    recorded: { at: new Date().toISOString(), node: process.version, cpuSeconds: Math.round((cpu.user + cpu.system) / 1e6), split: "Split.holdout testFraction 0.3 seed 0 (stratified for classification)" },
    tasks
  })
}
