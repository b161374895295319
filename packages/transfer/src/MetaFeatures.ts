/**
 * Meta-features: numbers that describe a dataset, so that tasks on similar data can be found
 * (Brazdil et al. 2009, "Metalearning"; the set follows Feurer et al. 2015, "Initializing Bayesian
 * Hyperparameter Optimization via Meta-Learning"):
 *
 * - simple: rows, features, classes and their logarithms, features per row;
 * - information-theoretic: the class entropy (bits);
 * - statistical: the means over features of the skewness and the excess kurtosis (the biased
 *   moment estimators, as `scipy.stats.skew` and `scipy.stats.kurtosis` by default; features
 *   constant over the data have none and are left out);
 * - landmarkers (Pfahringer et al. 2000, "Meta-Learning by Landmarking Various Learning
 *   Algorithms"): the cross-validated accuracy of a decision stump (a depth-1 CART tree, Gini) and
 *   of 1-nearest-neighbour (Euclidean), on stratified folds.
 *
 * @example
 * import { Iris } from "@tunekit/datasets"
 * import { MetaFeatures } from "@tunekit/transfer"
 * const m = MetaFeatures.describe(Iris.load())
 * m.classEntropy // 1.585 (three balanced classes)
 *
 * @since 0.2.0
 */
import { CrossValidation, type Dataset, DecisionTree } from "@tunekit/datasets"
import { nearestNeighbourAccuracy, standardMoments } from "./internal/stats.js"

/** A dataset's meta-features by name; regression data has no class-based ones. (A type, not an interface, so that it is a record of numbers.) */
export type MetaFeatures = {
  readonly rows: number
  readonly features: number
  readonly logRows: number
  readonly logFeatures: number
  readonly featuresPerRow: number
  readonly classes?: number
  readonly classEntropy?: number
  readonly meanSkewness: number
  readonly meanKurtosis: number
  readonly stumpAccuracy?: number
  readonly nearestNeighbourAccuracy?: number
}

/** Options of `describe`. */
export interface Options {
  /** Folds of the landmarkers' cross-validation (default 10). */
  readonly folds?: number
  /** The folds' seed (default 0). */
  readonly seed?: number
}

/**
 * The meta-features of a tabular dataset.
 *
 * @example
 * import { Wine } from "@tunekit/datasets"
 * import { MetaFeatures } from "@tunekit/transfer"
 * MetaFeatures.describe(Wine.load(), { folds: 5 }).stumpAccuracy
 */
export const describe = (data: Dataset.Tabular, options: Options = {}): MetaFeatures => {
  const n = data.x.length
  const d = data.x[0].length
  const skews: Array<number> = []
  const kurts: Array<number> = []
  for (let j = 0; j < d; j++) {
    const m = standardMoments(data.x.map((r) => r[j]))
    if (m === undefined) continue
    skews.push(m.skewness)
    kurts.push(m.kurtosis)
  }
  const mean = (xs: ReadonlyArray<number>) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)
  const simple = {
    rows: n,
    features: d,
    logRows: Math.log(n),
    logFeatures: Math.log(d),
    featuresPerRow: d / n,
    meanSkewness: mean(skews),
    meanKurtosis: mean(kurts)
  }
  if (data._tag === "Regression") return simple
  const k = data.classNames.length
  const counts = new Array<number>(k).fill(0)
  for (const c of data.y) counts[c]++
  let entropy = 0
  for (const c of counts) if (c > 0) entropy -= (c / n) * Math.log2(c / n)
  const folds = CrossValidation.stratifiedKFold(data.y, { k: options.folds ?? 10, seed: options.seed ?? 0 })
  let stump = 0
  let nn = 0
  for (const f of folds) {
    const train = { ...data, x: f.train.map((i) => data.x[i]), y: f.train.map((i) => data.y[i]) }
    const tree = DecisionTree.fit(train, { maxDepth: 1 })
    const predicted = tree.predict(f.test.map((i) => data.x[i]))
    stump += predicted.filter((p, i) => p === data.y[f.test[i]]).length
    nn += nearestNeighbourAccuracy(data.x, data.y, f.train, f.test) * f.test.length
  }
  return { ...simple, classes: k, classEntropy: entropy, stumpAccuracy: stump / n, nearestNeighbourAccuracy: nn / n }
}

/** The names of the meta-features, in a fixed order. */
export const names: ReadonlyArray<keyof MetaFeatures> = [
  "rows",
  "features",
  "logRows",
  "logFeatures",
  "featuresPerRow",
  "classes",
  "classEntropy",
  "meanSkewness",
  "meanKurtosis",
  "stumpAccuracy",
  "nearestNeighbourAccuracy"
]

/**
 * The meta-features that similarity compares by default: the scale-free ones (log sizes rather
 * than sizes, which would count the same thing twice) and the landmarkers.
 */
export const compared: ReadonlyArray<keyof MetaFeatures> = names.filter((n) => n !== "rows" && n !== "features" && n !== "featuresPerRow")

/**
 * The L1 distance between two tasks' meta-features, each scaled to [0, 1] by its range over a
 * population of tasks (Feurer et al. 2015), divided by the number of meta-features both have: 0
 * for identical, at most 1. Undefined when they share none.
 *
 * @example
 * import { MetaFeatures } from "@tunekit/transfer"
 * declare const a: MetaFeatures.MetaFeatures, b: MetaFeatures.MetaFeatures
 * MetaFeatures.distance(a, b, [a, b])
 */
export const distance = (
  a: Readonly<Record<string, number | undefined>>,
  b: Readonly<Record<string, number | undefined>>,
  population: ReadonlyArray<Readonly<Record<string, number | undefined>>>,
  features: ReadonlyArray<string> = compared
): number | undefined => {
  let sum = 0
  let count = 0
  for (const f of features) {
    const x = a[f]
    const y = b[f]
    if (typeof x !== "number" || typeof y !== "number" || !Number.isFinite(x) || !Number.isFinite(y)) continue
    let lo = Math.min(x, y)
    let hi = Math.max(x, y)
    for (const p of population) {
      const v = p[f]
      if (typeof v === "number" && Number.isFinite(v)) {
        if (v < lo) lo = v
        if (v > hi) hi = v
      }
    }
    sum += hi > lo ? Math.abs(x - y) / (hi - lo) : 0
    count++
  }
  return count === 0 ? undefined : sum / count
}
