/**
 * A CART decision tree (Breiman, Friedman, Olshen, Stone 1984) for classification (Gini) or
 * regression (squared error), with scikit-learn's hyperparameters. Two engines grow it: tunekit's
 * own (the default: sorted scans, O(features x rows log rows) a node, `minSamplesLeaf` honoured
 * while growing) and ml-cart (`engine: "ml-cart"`: a quadratic scan a node, so minutes on the
 * digits; `minSamplesLeaf` applied by pruning afterwards).
 *
 * @example
 * import { DecisionTree, Model, Split, Wine } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(Wine.load(), { seed: 3, stratify: true })
 * const tree = DecisionTree.fit(train, { maxDepth: 4, minSamplesLeaf: 2 })
 * Model.score(tree, test)
 *
 * @since 0.1.0
 */
import type * as Dataset from "./Dataset.js"
import { addProba, argmax, shape, trainTree, type Tree, value } from "./internal/cart.js"
import { Options } from "@tunekit/core"
import { Schema } from "effect"
import { InvalidModelConfig } from "./Errors.js"
import { decoder } from "./internal/decode.js"
import { columns, grow, leafFor, shapeOf } from "./internal/tree.js"
import type * as Model from "./Model.js"

/** Hyperparameters (scikit-learn's names in camelCase). */
export interface Config {
  /** max_depth: levels of splits below the root; default unlimited. */
  readonly maxDepth?: number
  /** min_samples_split: a node with fewer rows is not split; >= 2, default 2. */
  readonly minSamplesSplit?: number
  /** min_samples_leaf: every leaf keeps at least this many training rows; >= 1, default 1. */
  readonly minSamplesLeaf?: number
  /** min_impurity_decrease (classification): a split must lower the Gini impurity by more; default 0. */
  readonly minImpurityDecrease?: number
  /** Which implementation grows the tree: "tunekit" (default, fast) or "ml-cart". */
  readonly engine?: Engine
}

/** The tree implementations. */
export type Engine = "tunekit" | "ml-cart"

// Infinity is no limit; JSON cannot hold it (leave maxDepth out there).
const Unlimited = Schema.Literal(Infinity).annotations({ jsonSchema: { description: "Infinity: no limit (set in code only)", anyOf: [{ not: {} }] } })

/** @internal the fields a forest shares with a tree. */
export const treeFields = {
  maxDepth: Schema.optional(Schema.Union(Options.PositiveInt, Unlimited).annotations(Options.expecting("an integer >= 1, or Infinity (no limit)"))),
  minSamplesSplit: Schema.optional(Options.number({ int: true, min: 2 })),
  minSamplesLeaf: Schema.optional(Options.PositiveInt),
  minImpurityDecrease: Schema.optional(Options.number({ min: 0, max: 1 }))
}

/**
 * The Schema of a tree's hyperparameters, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { DecisionTree } from "@tunekit/datasets"
 * Options.jsonSchema(DecisionTree.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Struct({ ...treeFields, engine: Schema.optional(Options.literals("tunekit", "ml-cart")) })

/** @internal a problem with a model's hyperparameters as its typed error. */
export const invalidConfig = (model: string) => (p: Options.Problem) => new InvalidModelConfig({ model, param: p.path === "" ? "config" : p.path, reason: p.message })

/** The checked, complete hyperparameters. */
export interface Params {
  readonly maxDepth: number
  readonly minSamplesSplit: number
  readonly minSamplesLeaf: number
  readonly minImpurityDecrease: number
  readonly engine: Engine
}

/**
 * Checks a config and fills in the defaults; throws `InvalidModelConfig` naming the bad one.
 *
 * @example
 * import { DecisionTree } from "@tunekit/datasets"
 * DecisionTree.validate({ maxDepth: 0 }) // throws: decisionTree.maxDepth: must be an integer >= 1, got 0
 */
export const validate = (config: Config, model = "decisionTree"): Params => {
  const c = decoder(ConfigSchema, invalidConfig(model))(config)
  return {
    maxDepth: c.maxDepth ?? Infinity,
    minSamplesSplit: c.minSamplesSplit ?? 2,
    minSamplesLeaf: c.minSamplesLeaf ?? 1,
    minImpurityDecrease: c.minImpurityDecrease ?? 0,
    engine: c.engine ?? "tunekit"
  }
}

/** A trained tree, with its shape. */
export type Fitted<D extends Dataset.Tabular> = Model.For<D> & { readonly depth: number; readonly leaves: number }

/**
 * Trains a tree on a dataset: a classifier for classification data, a regressor for regression.
 * Throws `InvalidModelConfig` for an impossible config.
 *
 * @example
 * import { DecisionTree, Iris } from "@tunekit/datasets"
 * const tree = DecisionTree.fit(Iris.load(), { maxDepth: 3 })
 * tree.predict([[5.1, 3.5, 1.4, 0.2]]) // [0]
 */
export const fit = <D extends Dataset.Tabular>(train: D, config: Config = {}): Fitted<D> => {
  const params = validate(config)
  const kind = train._tag === "Classification" ? "classification" : "regression"
  if (params.engine === "ml-cart") return wrapCart(trainTree(kind, train.x, train.y, params), train) as Fitted<D>
  const classes = train._tag === "Classification" ? train.classNames.length : 0
  const tree = grow(columns(train.x), train.y, Array.from({ length: train.x.length }, (_, i) => i), {
    ...params,
    featuresPerSplit: train.x[0].length,
    classes
  }, undefined)
  const s = shapeOf(tree)
  if (classes === 0) {
    const model: Model.Regressor = { _tag: "Regressor", predict: (x) => x.map((row) => leafFor(tree, row).value) }
    return { ...model, ...s } as unknown as Fitted<D>
  }
  const proba = (row: ReadonlyArray<number>) => Array.from(leafFor(tree, row).proba!)
  const model: Model.Classifier = {
    _tag: "Classifier",
    classes,
    predict: (x) => x.map((row) => leafFor(tree, row).value),
    predictProba: (x) => x.map(proba)
  }
  return { ...model, ...s } as unknown as Fitted<D>
}

const wrapCart = (tree: Tree, train: Dataset.Tabular): Model.Fitted & { depth: number; leaves: number } => {
  const s = shape(tree)
  if (train._tag === "Regression") {
    return { _tag: "Regressor", predict: (x) => x.map((row) => value(tree, row, undefined)), ...s }
  }
  const classes = train.classNames.length
  const proba = (row: ReadonlyArray<number>) => {
    const p = new Array<number>(classes).fill(0)
    addProba(tree, row, undefined, p)
    return p
  }
  return {
    _tag: "Classifier",
    classes,
    predict: (x) => x.map((row) => argmax(proba(row))),
    predictProba: (x) => x.map(proba),
    ...s
  }
}
