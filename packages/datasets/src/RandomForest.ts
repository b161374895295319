/**
 * Random forests for classification and regression: bagged CART trees (Breiman 2001, "Random
 * Forests", Machine Learning 45) each grown by ml-cart on a bootstrap sample of the rows and a
 * random subset of the features (Ho's random subspaces, drawn once per tree as ml-random-forest
 * does, since ml-cart has no per-split feature sampling). Predictions average the trees' class
 * frequencies (classification) or values (regression), as scikit-learn does.
 *
 * The bagging is tunekit's own rather than ml-random-forest's, to honour `minSamplesLeaf` (which
 * needs each tree's own sample), to draw features without replacement, and to draw every random
 * choice from the seeded generator of @tunekit/core.
 *
 * @example
 * import { BreastCancer, Model, RandomForest, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(BreastCancer.load(), { testFraction: 0.2, seed: 1, stratify: true })
 * const forest = RandomForest.fit(train, { nEstimators: 50, maxDepth: 8, maxFeatures: "sqrt", seed: 1 })
 * Model.score(forest, test) // about 0.95
 *
 * @since 0.1.0
 */
import { Rng } from "@tunekit/core"
import type * as Dataset from "./Dataset.js"
import * as DecisionTree from "./DecisionTree.js"
import { addProba, argmax, trainTree, type Tree, value } from "./internal/cart.js"
import { checker } from "./internal/params.js"
import type * as Model from "./Model.js"

/** How many features each tree sees. */
export type MaxFeatures = number | "sqrt" | "log2" | "all"

/** Hyperparameters (scikit-learn's names in camelCase). */
export interface Config extends DecisionTree.Config {
  /** n_estimators: the number of trees; >= 1, default 100. */
  readonly nEstimators?: number
  /**
   * max_features: the features each tree sees: a fraction in (0, 1], a count (an integer > 1),
   * "sqrt", "log2" or "all". Default "sqrt" for classification, "all" for regression.
   */
  readonly maxFeatures?: MaxFeatures
  /** bootstrap: train each tree on a bootstrap sample of the rows (default true) or on all rows. */
  readonly bootstrap?: boolean
  /** max_samples: the share of rows in each bootstrap sample, in (0, 1]; default 1. */
  readonly maxSamples?: number
  /** The seed of the bagging; default 0. */
  readonly seed?: number
}

/** The checked, complete hyperparameters. */
export interface Params extends DecisionTree.Params {
  readonly nEstimators: number
  readonly maxFeatures: MaxFeatures
  readonly bootstrap: boolean
  readonly maxSamples: number
  readonly seed: number
}

/**
 * Checks a config and fills in the defaults; throws `InvalidModelConfig` naming the bad one.
 *
 * @example
 * import { RandomForest } from "@tunekit/datasets"
 * RandomForest.validate({ nEstimators: 0 }) // throws: randomForest.nEstimators: must be an integer >= 1, got 0
 */
export const validate = (config: Config, task: "classification" | "regression" = "classification"): Params => {
  const c = checker("randomForest")
  const mf = config.maxFeatures ?? (task === "classification" ? "sqrt" : "all")
  if (typeof mf === "number" ? !(mf > 0 && (mf <= 1 || Number.isInteger(mf))) : !["sqrt", "log2", "all"].includes(mf)) {
    c.fail("maxFeatures", `must be a fraction in (0, 1], an integer count, "sqrt", "log2" or "all", got ${JSON.stringify(mf)}`)
  }
  if (config.bootstrap !== undefined && typeof config.bootstrap !== "boolean") c.fail("bootstrap", `must be a boolean, got ${String(config.bootstrap)}`)
  return {
    ...DecisionTree.validate(config, "randomForest"),
    nEstimators: c.int("nEstimators", config.nEstimators, 100, 1),
    maxFeatures: mf,
    bootstrap: config.bootstrap ?? true,
    maxSamples: c.float("maxSamples", config.maxSamples, 1, 0, 1, true),
    seed: c.int("seed", config.seed, 0, -(2 ** 53), 2 ** 53)
  }
}

/** The number of features each tree sees, for `d` features. */
export const featureCount = (mf: MaxFeatures, d: number): number => {
  const n = mf === "all" ? d
    : mf === "sqrt" ? Math.sqrt(d)
    : mf === "log2" ? Math.log2(d)
    : mf <= 1 ? mf * d
    : mf
  return Math.min(d, Math.max(1, Math.floor(n)))
}

/** A trained forest. */
export type Fitted<D extends Dataset.Tabular> = Model.For<D> & {
  readonly nEstimators: number
  /** The feature indices each tree saw. */
  readonly features: ReadonlyArray<ReadonlyArray<number>>
}

/**
 * Trains a forest on a dataset: a classifier for classification data, a regressor for regression.
 * Throws `InvalidModelConfig` for an impossible config (a count of features above the dataset's
 * is one).
 *
 * @example
 * import { Diabetes, RandomForest } from "@tunekit/datasets"
 * const forest = RandomForest.fit(Diabetes.load(), { nEstimators: 20, maxDepth: 6, minSamplesLeaf: 5, seed: 3 })
 */
export const fit = <D extends Dataset.Tabular>(train: D, config: Config = {}): Fitted<D> => {
  const task = train._tag === "Classification" ? "classification" : "regression"
  const p = validate(config, task)
  const n = train.x.length
  const d = train.x[0].length
  if (typeof p.maxFeatures === "number" && p.maxFeatures > 1 && p.maxFeatures > d) {
    checker("randomForest").fail("maxFeatures", `${p.maxFeatures} features asked for, ${train.name} has ${d}`)
  }
  const k = featureCount(p.maxFeatures, d)
  const draws = Math.max(1, Math.round(p.maxSamples * n))
  const trees: Array<Tree> = []
  const features: Array<ReadonlyArray<number>> = []
  const all = Array.from({ length: d }, (_, j) => j)
  for (let t = 0; t < p.nEstimators; t++) {
    const rng = Rng.generator(p.seed, "forest", t)
    const rows = p.bootstrap ? Array.from({ length: draws }, () => rng.int(n)) : Array.from({ length: n }, (_, i) => i)
    const cols = k === d ? all : rng.shuffle(all).slice(0, k).sort((a, b) => a - b)
    const x = rows.map((i) => cols.map((j) => train.x[i][j]))
    const y = rows.map((i) => train.y[i])
    trees.push(trainTree(task, x, y, p))
    features.push(cols)
  }
  const base = { nEstimators: p.nEstimators, features }
  if (train._tag === "Regression") {
    const predictRow = (row: ReadonlyArray<number>) => {
      let s = 0
      for (let t = 0; t < trees.length; t++) s += value(trees[t], row, features[t])
      return s / trees.length
    }
    const model: Model.Regressor = { _tag: "Regressor", predict: (x) => x.map(predictRow) }
    return { ...model, ...base } as unknown as Fitted<D>
  }
  const classes = train.classNames.length
  const proba = (row: ReadonlyArray<number>) => {
    const p = new Array<number>(classes).fill(0)
    for (let t = 0; t < trees.length; t++) addProba(trees[t], row, features[t], p, 1 / trees.length)
    return p
  }
  const model: Model.Classifier = {
    _tag: "Classifier",
    classes,
    predict: (x) => x.map((row) => argmax(proba(row))),
    predictProba: (x) => x.map(proba)
  }
  return { ...model, ...base } as unknown as Fitted<D>
}
