/**
 * Random forests for classification and regression (Breiman 2001, "Random Forests", Machine
 * Learning 45): CART trees each grown on a bootstrap sample of the rows, choosing each split among
 * `maxFeatures` features drawn afresh at that split. Predictions average the trees' class
 * frequencies (classification) or values (regression), as scikit-learn does.
 *
 * The default engine grows the trees with tunekit's CART (see `DecisionTree`). `engine: "ml-cart"`
 * grows them with ml-cart instead, which cannot sample features per split: each tree then sees one
 * random subset of the features (Ho's random subspaces, as ml-random-forest does). Either way the
 * bagging is tunekit's own rather than ml-random-forest's, to honour `minSamplesLeaf`, to draw
 * features without replacement, and to draw every random choice from the seeded generator of
 * @tunekit/core.
 *
 * @example
 * import { BreastCancer, Model, RandomForest, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(BreastCancer.load(), { testFraction: 0.2, seed: 1, stratify: true })
 * const forest = RandomForest.fit(train, { nEstimators: 50, maxDepth: 8, maxFeatures: "sqrt", seed: 1 })
 * Model.score(forest, test) // about 0.95
 *
 * @since 0.1.0
 */
import { Options, Rng } from "@tunekit/core"
import { Schema } from "effect"
import type * as Dataset from "./Dataset.js"
import * as DecisionTree from "./DecisionTree.js"
import { RandomForestClassifier, RandomForestRegression } from "ml-random-forest"
import { addProba, argmax, trainTree, value } from "./internal/cart.js"
import { columns, grow, leafFor } from "./internal/tree.js"
import { InvalidModelConfig } from "./Errors.js"
import { decoder } from "./internal/decode.js"
import type * as Model from "./Model.js"

/** How many features each tree sees. */
export type MaxFeatures = number | "sqrt" | "log2" | "all"

/** Hyperparameters (scikit-learn's names in camelCase). */
export interface Config extends Omit<DecisionTree.Config, "engine"> {
  /**
   * Which implementation grows the forest: "tunekit" (default, fast, features drawn at each
   * split), "ml-cart" (ml-cart trees, features drawn once a tree) or "ml-random-forest" (the
   * library as it is: no `minSamplesLeaf`, no `maxSamples` below 1).
   */
  readonly engine?: Engine
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

/** The forest implementations: tunekit's CART, ml-cart trees with tunekit's bagging, or ml-random-forest whole. */
export type Engine = DecisionTree.Engine | "ml-random-forest"

/**
 * The Schema of a forest's hyperparameters, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { RandomForest } from "@tunekit/datasets"
 * Options.jsonSchema(RandomForest.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Struct({
  ...DecisionTree.treeFields,
  engine: Schema.optional(Options.literals("tunekit", "ml-cart", "ml-random-forest")),
  nEstimators: Schema.optional(Options.PositiveInt),
  maxFeatures: Schema.optional(
    Schema.Union(Options.number({ above: 0, max: 1 }), Options.number({ int: true, min: 2 }), Options.literals("sqrt", "log2", "all"))
      .annotations(Options.expecting(`a fraction in (0, 1], an integer count, "sqrt", "log2" or "all"`))
  ),
  bootstrap: Schema.optional(Options.Boolean),
  maxSamples: Schema.optional(Options.number({ above: 0, max: 1 })),
  seed: Schema.optional(Options.number({ int: true }))
}).pipe(Schema.filter((c) => {
  if (c.engine !== "ml-random-forest") return true
  if ((c.minSamplesLeaf ?? 1) !== 1) return { path: ["minSamplesLeaf"], message: "ml-random-forest has no minimum leaf size; use engine \"tunekit\"" }
  if ((c.maxSamples ?? 1) !== 1) return { path: ["maxSamples"], message: "ml-random-forest takes the first rows rather than a sample; use engine \"tunekit\"" }
  return true
}))

const configOf = decoder(ConfigSchema, DecisionTree.invalidConfig("randomForest"))

/** The checked, complete hyperparameters. */
export interface Params extends Omit<DecisionTree.Params, "engine"> {
  readonly engine: Engine
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
  const c = configOf(config)
  return {
    maxDepth: c.maxDepth ?? Infinity,
    minSamplesSplit: c.minSamplesSplit ?? 2,
    minSamplesLeaf: c.minSamplesLeaf ?? 1,
    minImpurityDecrease: c.minImpurityDecrease ?? 0,
    engine: c.engine ?? "tunekit",
    nEstimators: c.nEstimators ?? 100,
    maxFeatures: c.maxFeatures ?? (task === "classification" ? "sqrt" : "all"),
    bootstrap: c.bootstrap ?? true,
    maxSamples: c.maxSamples ?? 1,
    seed: c.seed ?? 0
  }
}

/**
 * The number of candidate features for `d` features (at each split; each tree with ml-cart).
 *
 * @example
 * import { RandomForest } from "@tunekit/datasets"
 * RandomForest.featureCount("sqrt", 30) // 5
 */
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
  /** The features each split chooses among (each tree, with the ml-cart engine). */
  readonly maxFeatures: number
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
    throw new InvalidModelConfig({ model: "randomForest", param: "maxFeatures", reason: `${p.maxFeatures} features asked for, ${train.name} has ${d}` })
  }
  const k = featureCount(p.maxFeatures, d)
  const draws = Math.max(1, Math.round(p.maxSamples * n))
  const classes = train._tag === "Classification" ? train.classNames.length : 0
  const rowsOf = (rng: Rng.Generator) => p.bootstrap ? Array.from({ length: draws }, () => rng.int(n)) : Array.from({ length: n }, (_, i) => i)
  // One walk per tree: add its vote for a row into `into` (class frequencies, or a value at 0).
  const trees: Array<(row: ReadonlyArray<number>, into: Array<number>) => void> = []
  if (p.engine === "ml-random-forest") {
    const lib = libraryForest(train, p, k)
    trees.push(lib)
  } else if (p.engine === "tunekit") {
    const cols = columns(train.x)
    for (let t = 0; t < p.nEstimators; t++) {
      const rng = Rng.generator(p.seed, "forest", t)
      const tree = grow(cols, train.y, rowsOf(rng), { ...p, featuresPerSplit: k, classes }, rng)
      trees.push(classes === 0
        ? (row, into) => void (into[0] += leafFor(tree, row).value)
        : (row, into) => {
          const pr = leafFor(tree, row).proba!
          for (let c = 0; c < classes; c++) into[c] += pr[c]
        })
    }
  } else {
    const all = Array.from({ length: d }, (_, j) => j)
    for (let t = 0; t < p.nEstimators; t++) {
      const rng = Rng.generator(p.seed, "forest", t)
      const rows = rowsOf(rng)
      const cols = k === d ? all : rng.shuffle(all).slice(0, k).sort((a, b) => a - b)
      const tree = trainTree(classes === 0 ? "regression" : "classification", rows.map((i) => cols.map((j) => train.x[i][j])), rows.map((i) => train.y[i]), p)
      trees.push(classes === 0 ? (row, into) => void (into[0] += value(tree, row, cols)) : (row, into) => addProba(tree, row, cols, into))
    }
  }
  const base = { nEstimators: p.nEstimators, maxFeatures: k }
  const vote = (row: ReadonlyArray<number>) => {
    const acc = new Array<number>(Math.max(1, classes)).fill(0)
    for (const t of trees) t(row, acc)
    for (let c = 0; c < acc.length; c++) acc[c] /= trees.length
    return acc
  }
  if (classes === 0) {
    const model: Model.Regressor = { _tag: "Regressor", predict: (x) => x.map((row) => vote(row)[0]) }
    return { ...model, ...base } as unknown as Fitted<D>
  }
  const model: Model.Classifier = {
    _tag: "Classifier",
    classes,
    predict: (x) => x.map((row) => argmax(vote(row))),
    predictProba: (x) => x.map(vote)
  }
  return { ...model, ...base } as unknown as Fitted<D>
}

/**
 * ml-random-forest as it is, as one voter: the share of its trees predicting each class (its own
 * `predictProbability` miscounts), or its mean prediction.
 */
const libraryForest = (train: Dataset.Tabular, p: Params, k: number) => {
  const d = train.x[0].length
  const options = {
    nEstimators: p.nEstimators,
    // A number in (0, 1] is a fraction to ml-random-forest, an integer above 1 a count: one
    // feature must be asked for as a fraction.
    maxFeatures: k === 1 ? 1.5 / d : k === d ? 1 : k,
    replacement: false,
    seed: p.seed | 0,
    useSampleBagging: p.bootstrap,
    noOOB: true,
    treeOptions: {
      maxDepth: p.maxDepth,
      minNumSamples: p.minSamplesSplit - 1,
      ...(train._tag === "Classification" ? { gainThreshold: p.minImpurityDecrease } : {})
    }
  }
  const x = train.x as Array<Array<number>>
  const y = train.y as Array<number>
  if (train._tag === "Regression") {
    const forest = new RandomForestRegression({ ...options, selectionMethod: "mean" })
    forest.train(x, y)
    return (row: ReadonlyArray<number>, into: Array<number>) => void (into[0] += forest.predict([row as Array<number>])[0])
  }
  const forest = new RandomForestClassifier(options)
  forest.train(x, y)
  return (row: ReadonlyArray<number>, into: Array<number>) => {
    const votes = forest.predictionValues([row as Array<number>]).getRow(0)
    for (const v of votes) into[v] += 1 / votes.length
  }
}
