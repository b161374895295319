// The options of datasets, splits, cross-validation and the tree models: any one invalid field is
// refused with the module's typed error (InvalidSplit, InvalidDataset, InvalidModelConfig), thrown
// where the module throws, naming the field's path; and each gives a JSON Schema.
import { Options } from "@tunekit/core"
import { OptionsConformance } from "@tunekit/core/testing"
import { Either, FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import { Boosting, CrossValidation, Dataset, DecisionTree, Iris, RandomForest, SpamAssassin, Split, Sunspots, Tokenizer } from "../src/index.js"

const { Invalid } = OptionsConformance

const thrown = async (f: () => unknown): Promise<string | undefined> => {
  try {
    await f()
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}

const iris = Iris.load()
const series = Sunspots.load()
const fraction = Invalid.number({ above: 0, below: 1 })
const notANumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null))

OptionsConformance.suite({
  name: "Split.holdout",
  valid: { testFraction: 0.3, seed: 1, stratify: true },
  fields: { testFraction: fraction, seed: Invalid.notNumber, stratify: Invalid.boolean },
  schema: Split.HoldoutOptionsSchema,
  problem: (o) => thrown(() => Split.holdout(iris, o as Split.HoldoutOptions))
})

OptionsConformance.suite({
  name: "Split.holdoutIndices",
  valid: { testFraction: 0.25, seed: 2, labels: Array.from({ length: 20 }, (_, i) => i % 2) },
  fields: { testFraction: fraction, seed: Invalid.notNumber, labels: Invalid.notObject, "labels[3]": notANumber },
  schema: Split.IndicesOptionsSchema,
  problem: (o) => thrown(() => Split.holdoutIndices(20, o as Split.IndicesOptions))
})

OptionsConformance.suite({
  name: "Split.chronological",
  valid: { testFraction: 0.1 },
  fields: { testFraction: fraction },
  schema: Split.ChronologicalOptionsSchema,
  problem: (o) => thrown(() => Split.chronological(series, o as Split.ChronologicalOptions))
})

const k = Invalid.number({ int: true, min: 2 })

OptionsConformance.suite({
  name: "CrossValidation.kFold",
  valid: { k: 4, shuffle: false, seed: 3 },
  fields: { k, shuffle: Invalid.boolean, seed: Invalid.notNumber },
  schema: CrossValidation.KFoldOptionsSchema,
  problem: (o) => thrown(() => CrossValidation.kFold(20, o as CrossValidation.KFoldOptions))
})

OptionsConformance.suite({
  name: "CrossValidation.stratifiedKFold",
  valid: { k: 3, seed: 1 },
  fields: { k, seed: Invalid.notNumber },
  schema: CrossValidation.StratifiedOptionsSchema,
  problem: (o) => thrown(() => CrossValidation.stratifiedKFold(iris.y, o as CrossValidation.KFoldOptions))
})

OptionsConformance.suite({
  name: "CrossValidation.repeated",
  valid: { k: 3, seed: 1, repeats: 3 },
  fields: { k, seed: Invalid.notNumber, repeats: Invalid.number({ int: true, above: 0 }), shuffle: Invalid.boolean },
  schema: CrossValidation.RepeatedOptionsSchema,
  problem: (o) => thrown(() => CrossValidation.repeated(20, o as CrossValidation.RepeatedOptions))
})

OptionsConformance.suite({
  name: "CrossValidation.timeSeries",
  valid: { k: 3, testSize: 5, gap: 2, maxTrainSize: 10 },
  fields: {
    k: Invalid.number({ int: true, above: 0 }),
    testSize: Invalid.number({ int: true, above: 0 }),
    gap: Invalid.number({ int: true, min: 0 }),
    maxTrainSize: Invalid.number({ int: true, above: 0 })
  },
  schema: CrossValidation.TimeSeriesOptionsSchema,
  problem: (o) => thrown(() => CrossValidation.timeSeries(40, o as CrossValidation.TimeSeriesOptions))
})

OptionsConformance.suite({
  name: "CrossValidation scheme",
  valid: { _tag: "Repeated", stratified: false, options: { k: 4, seed: 1, repeats: 2 } },
  fields: {
    _tag: Invalid.oneOf(["KFold", "StratifiedKFold", "Repeated", "TimeSeries"]),
    stratified: fc.oneof(Invalid.boolean, Invalid.missing),
    "options.k": k,
    "options.repeats": Invalid.number({ int: true, above: 0 }),
    "options.labels": fc.constant([0, 1])
  },
  schema: CrossValidation.SchemeSchema,
  problem: (s) => thrown(() => CrossValidation.folds(s as CrossValidation.Scheme, 20))
})

OptionsConformance.suite({
  name: "CrossValidation.objective",
  valid: { data: iris, folds: CrossValidation.kFold(150, { k: 3 }), score: () => 1, metric: "accuracy" },
  fields: {
    data: Invalid.notObject,
    folds: fc.oneof(Invalid.notObject, fc.constant([])),
    "folds[1].index": Invalid.number({ int: true, min: 0 }),
    "folds[0].train": Invalid.notObject,
    score: fc.oneof(Invalid.fn, Invalid.missing),
    metric: Invalid.nonEmptyString
  },
  schema: CrossValidation.EvaluateOptionsSchema,
  numRuns: 30,
  problem: (o) =>
    thrown(() => CrossValidation.objective(o as CrossValidation.EvaluateOptions<Dataset.Rows, unknown>)({}, { report: async () => {} }))
})

OptionsConformance.suite({
  name: "Dataset.windows",
  valid: { length: 12, horizon: 2 },
  fields: { length: fc.oneof(Invalid.number({ int: true, above: 0 }), Invalid.missing), horizon: Invalid.number({ int: true, above: 0 }) },
  schema: Dataset.WindowOptionsSchema,
  problem: (o) => thrown(() => Dataset.windows(series, o as Dataset.WindowOptions))
})

OptionsConformance.suite({
  name: "SpamAssassin.load",
  valid: { headers: false, maxChars: 200 },
  fields: { headers: Invalid.boolean, maxChars: Invalid.number({ int: true, above: 0 }) },
  schema: SpamAssassin.LoadOptionsSchema,
  numRuns: 20,
  problem: (o) => thrown(() => SpamAssassin.load(o as SpamAssassin.LoadOptions))
})

OptionsConformance.suite({
  name: "Tokenizer.fit",
  valid: { maxVocab: 100, minCount: 1, maxTokenLength: 20 },
  fields: {
    maxVocab: Invalid.number({ int: true, above: 0 }),
    minCount: Invalid.number({ int: true, above: 0 }),
    maxTokenLength: Invalid.number({ int: true, above: 0 })
  },
  schema: Tokenizer.OptionsSchema,
  problem: (o) => thrown(() => Tokenizer.fit(["a cat", "a dog"], o as Tokenizer.Options))
})

const treeFields = {
  maxDepth: Invalid.number({ int: true, min: 1 }).filter((v) => v !== Infinity),
  minSamplesSplit: Invalid.number({ int: true, min: 2 }),
  minSamplesLeaf: Invalid.number({ int: true, above: 0 }),
  minImpurityDecrease: Invalid.number({ min: 0, max: 1 })
}

OptionsConformance.suite({
  name: "DecisionTree",
  valid: { maxDepth: 4, minSamplesSplit: 4, minSamplesLeaf: 2, minImpurityDecrease: 0.01, engine: "ml-cart" },
  fields: { ...treeFields, engine: Invalid.oneOf(["tunekit", "ml-cart"]) },
  schema: DecisionTree.ConfigSchema,
  prefix: "decisionTree",
  problem: (c) => thrown(() => DecisionTree.validate(c as DecisionTree.Config))
})

OptionsConformance.suite({
  name: "RandomForest",
  valid: { maxDepth: 6, minSamplesLeaf: 1, nEstimators: 20, maxFeatures: "sqrt", bootstrap: true, maxSamples: 0.8, seed: 3, engine: "tunekit" },
  fields: {
    ...treeFields,
    engine: Invalid.oneOf(["tunekit", "ml-cart", "ml-random-forest"]),
    nEstimators: Invalid.number({ int: true, above: 0 }),
    maxFeatures: fc.constantFrom(0, -1, 1.5, 2.5, "sqrtt", null, true, Number.NaN),
    bootstrap: Invalid.boolean,
    maxSamples: Invalid.number({ above: 0, max: 1 }),
    seed: Invalid.number({ int: true })
  },
  schema: RandomForest.ConfigSchema,
  prefix: "randomForest",
  problem: (c) => thrown(() => RandomForest.validate(c as RandomForest.Config))
})

OptionsConformance.suite({
  name: "Boosting",
  valid: {
    nEstimators: 50,
    learningRate: 0.1,
    maxDepth: 4,
    minChildWeight: 1,
    subsample: 0.8,
    colsampleBytree: 0.9,
    regAlpha: 0,
    regLambda: 1,
    gamma: 0,
    seed: 5,
    params: { tree_method: "hist" }
  },
  fields: {
    nEstimators: Invalid.number({ int: true, min: 1, max: 100000 }),
    learningRate: Invalid.number({ above: 0, max: 1 }),
    maxDepth: Invalid.number({ int: true, min: 1, max: 30 }),
    minChildWeight: Invalid.number({ min: 0 }),
    subsample: Invalid.number({ above: 0, max: 1 }),
    colsampleBytree: Invalid.number({ above: 0, max: 1 }),
    regAlpha: Invalid.number({ min: 0 }),
    regLambda: Invalid.number({ min: 0 }),
    gamma: Invalid.number({ min: 0 }),
    seed: Invalid.number({ int: true, min: -(2 ** 31), max: 2 ** 31 - 1 }),
    "params.tree_method": fc.constantFrom(null, true, Number.NaN, {})
  },
  schema: Boosting.ConfigSchema,
  prefix: "boosting",
  problem: (c) => thrown(() => Boosting.validate(c as Boosting.Config))
})

OptionsConformance.suite({
  name: "Boosting.stream",
  valid: { every: 5 },
  fields: { every: Invalid.number({ int: true, above: 0 }) },
  schema: Boosting.StreamOptionsSchema,
  problem: (o) => Either.match(Options.decodeEither(Boosting.StreamOptionsSchema)(o), { onLeft: Options.format, onRight: () => undefined })
})

describe("datasets options", () => {
  it("a scheme names the field inside its options", async () => {
    expect(await thrown(() => CrossValidation.folds({ _tag: "KFold", options: { k: 1 } }, 10))).toBe("KFold: options.k: expected an integer >= 2, got 1")
  })

  it("a bad stream option errors the stream with InvalidModelConfig", async () => {
    const e = await new Promise<unknown>((resolve) =>
      Boosting.stream(iris, iris, { nEstimators: 2 }, { every: 0 }).subscribe({ error: resolve, complete: () => resolve(undefined) })
    )
    expect((e as Error).message).toBe("boosting.every: expected a positive integer, got 0")
  })
})
