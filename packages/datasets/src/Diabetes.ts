/**
 * Diabetes progression: 442 patients, 10 baseline variables (age, sex, body mass index, blood
 * pressure and six blood serum measurements, unscaled), target a quantitative measure of disease
 * progression one year later (25..346). Efron, Hastie, Johnstone, Tibshirani, "Least Angle
 * Regression", Annals of Statistics 2004.
 *
 * @example
 * import { Diabetes } from "@tunekit/datasets"
 * Diabetes.load().x.length // 442
 *
 * @since 0.1.0
 */
import * as Dataset from "./Dataset.js"
import { InvalidDataset } from "./Errors.js"
import { cached, lines, num, readData } from "./internal/files.js"
import { diabetesFeatures } from "./internal/sklearnNames.js"

/**
 * Loads the dataset (parsed once per process): 442 rows of 10 raw (unscaled) features.
 *
 * @example
 * import { Diabetes } from "@tunekit/datasets"
 * const { x, y, targetName } = Diabetes.load()
 */
export const load: () => Dataset.Regression = cached(() => {
  const name = "diabetes"
  const x = lines(readData(name, "diabetes_data_raw.csv.gz")).map((l, i) => l.split(/\s+/).map((c, j) => num(name, c, i, j)))
  const y = lines(readData(name, "diabetes_target.csv.gz")).map((l, i) => num(name, l, i, 0))
  if (x.length !== y.length) throw new InvalidDataset({ dataset: name, reason: `${x.length} rows of features for ${y.length} targets` })
  return Dataset.regression({ name, x, y, featureNames: diabetesFeatures, targetName: "progression" })
})
