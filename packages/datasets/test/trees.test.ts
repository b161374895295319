import { fc, test as propTest } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { BreastCancer, CrossValidation, Dataset, DecisionTree, Diabetes, InvalidModelConfig, Iris, Model, RandomForest, Split, Wine } from "../src/index.js"
import { columns, grow, type Node, shapeOf } from "../src/internal/tree.js"

const chance = (ds: Dataset.Classification) => Math.max(...Dataset.classCounts(ds)) / ds.y.length

describe("decision tree", () => {
  it("learns wine and breast cancer well above chance on a holdout", () => {
    for (const ds of [Wine.load(), BreastCancer.load()]) {
      const { train, test } = Split.holdout(ds, { testFraction: 0.25, seed: 1, stratify: true })
      const tree = DecisionTree.fit(train, { maxDepth: 5 })
      const acc = Model.score(tree, test)
      expect(acc).toBeGreaterThan(0.85)
      expect(acc).toBeGreaterThan(chance(test) + 0.2)
    }
  })

  it("maxDepth bounds the depth, minSamplesLeaf shrinks the tree", () => {
    const ds = BreastCancer.load()
    expect(DecisionTree.fit(ds, { maxDepth: 2 }).depth).toBeLessThanOrEqual(2)
    const deep = DecisionTree.fit(ds, {})
    const leafy = DecisionTree.fit(ds, { minSamplesLeaf: 20 })
    expect(leafy.leaves).toBeLessThan(deep.leaves)
  })

  it("regression on diabetes beats predicting the mean", () => {
    const { train, test } = Split.holdout(Diabetes.load(), { seed: 2 })
    expect(Model.score(DecisionTree.fit(train, { maxDepth: 3, minSamplesLeaf: 10 }), test)).toBeGreaterThan(0.1)
  })

  it("class probabilities sum to one", () => {
    const tree = DecisionTree.fit(Iris.load(), { maxDepth: 2 })
    for (const p of tree.predictProba(Iris.load().x.slice(0, 20))) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10)
  })
})

describe("random forest", () => {
  it("learns breast cancer and wine well above chance on a holdout", () => {
    for (const ds of [BreastCancer.load(), Wine.load()]) {
      const { train, test } = Split.holdout(ds, { testFraction: 0.25, seed: 4, stratify: true })
      const forest = RandomForest.fit(train, { nEstimators: 25, maxDepth: 8, seed: 1 })
      expect(forest.nEstimators).toBe(25)
      const acc = Model.score(forest, test)
      expect(acc).toBeGreaterThan(0.9)
      expect(acc).toBeGreaterThan(chance(test) + 0.25)
    }
  })

  it("regression on diabetes: R² well above zero, and above a single tree's", () => {
    const { train, test } = Split.holdout(Diabetes.load(), { seed: 2 })
    const r2 = Model.score(RandomForest.fit(train, { nEstimators: 30, minSamplesLeaf: 5, seed: 1 }), test)
    expect(r2).toBeGreaterThan(0.3)
    expect(r2).toBeGreaterThan(Model.score(DecisionTree.fit(train, {}), test))
  })

  it("the same seed gives the same forest, another seed another", () => {
    const ds = Wine.load()
    const a = RandomForest.fit(ds, { nEstimators: 5, seed: 9 })
    const b = RandomForest.fit(ds, { nEstimators: 5, seed: 9 })
    const c = RandomForest.fit(ds, { nEstimators: 5, seed: 10 })
    expect(a.predictProba(ds.x)).toEqual(b.predictProba(ds.x))
    expect(a.predictProba(ds.x)).not.toEqual(c.predictProba(ds.x))
  })

  it("maxFeatures picks the documented number of candidate features", () => {
    const ds = BreastCancer.load() // 30 features
    expect(RandomForest.fit(ds, { nEstimators: 2, maxFeatures: "sqrt" }).maxFeatures).toBe(5)
    expect(RandomForest.fit(ds, { nEstimators: 2, maxFeatures: "log2" }).maxFeatures).toBe(4)
    expect(RandomForest.fit(ds, { nEstimators: 2, maxFeatures: 0.5 }).maxFeatures).toBe(15)
    expect(RandomForest.fit(ds, { nEstimators: 2, maxFeatures: 7, engine: "ml-cart" }).maxFeatures).toBe(7)
    expect(RandomForest.featureCount("all", 30)).toBe(30)
  })

  it("impossible configs throw InvalidModelConfig naming the parameter", () => {
    const ds = Iris.load()
    const cases: ReadonlyArray<[RandomForest.Config, string]> = [
      [{ nEstimators: 0 }, "randomForest.nEstimators: expected a positive integer, got 0"],
      [{ maxDepth: 0 }, "randomForest.maxDepth: expected an integer >= 1, or Infinity (no limit), got 0"],
      [{ minSamplesSplit: 1 }, "randomForest.minSamplesSplit: expected an integer >= 2, got 1"],
      [{ minSamplesLeaf: 0.5 }, "randomForest.minSamplesLeaf: expected a positive integer, got 0.5"],
      [{ maxFeatures: 9 }, "randomForest.maxFeatures: 9 features asked for, iris has 4"],
      [{ maxFeatures: -1 }, "randomForest.maxFeatures: expected a fraction in (0, 1], an integer count, \"sqrt\", \"log2\" or \"all\", got -1"],
      [{ maxSamples: 0 }, "randomForest.maxSamples: expected a number in (0, 1], got 0"],
      [{ nEstimators: NaN }, "randomForest.nEstimators: expected a positive integer, got NaN"]
    ]
    for (const [config, msg] of cases) {
      let err: unknown
      try {
        RandomForest.fit(ds, config)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(InvalidModelConfig)
      expect((err as Error).message).toBe(msg)
    }
  })
})

describe("tunekit's CART engine", () => {
  const leaves = (t: Node): Array<Extract<Node, { leaf: true }>> => (t.leaf ? [t] : [...leaves(t.left), ...leaves(t.right)])

  it("splits at the midpoint that separates the classes, and stops when pure", () => {
    const toy = Dataset.classification({ name: "toy", x: [[1, 5], [2, 5], [3, 5], [4, 5]], y: [0, 0, 1, 1], classNames: ["a", "b"] })
    const tree = grow(columns(toy.x), toy.y, [0, 1, 2, 3], { maxDepth: Infinity, minSamplesSplit: 2, minSamplesLeaf: 1, minImpurityDecrease: 0, featuresPerSplit: 2, classes: 2 }, undefined)
    expect(tree.leaf).toBe(false)
    if (tree.leaf) return
    expect(tree.feature).toBe(0)
    expect(tree.threshold).toBe(2.5)
    expect(tree.left.leaf && tree.right.leaf).toBe(true)
    expect(DecisionTree.fit(toy).predict([[2.4, 0], [2.6, 0]])).toEqual([0, 1])
  })

  it("regression leaves hold the mean of their rows", () => {
    const toy = Dataset.regression({ name: "steps", x: [[0], [1], [2], [10], [11], [12]], y: [1, 2, 3, 10, 11, 12] })
    const tree = DecisionTree.fit(toy, { maxDepth: 1 })
    expect(tree.predict([[1], [11]])).toEqual([2, 11])
  })

  it("every leaf keeps at least minSamplesLeaf rows, and no node deeper than maxDepth", () => {
    const ds = BreastCancer.load()
    for (const minLeaf of [1, 7, 20]) {
      const tree = grow(columns(ds.x), ds.y, ds.y.map((_, i) => i), { maxDepth: 6, minSamplesSplit: 2, minSamplesLeaf: minLeaf, minImpurityDecrease: 0, featuresPerSplit: 30, classes: 2 }, undefined)
      expect(Math.min(...leaves(tree).map((l) => l.n))).toBeGreaterThanOrEqual(minLeaf)
      expect(leaves(tree).reduce((a, l) => a + l.n, 0)).toBe(569)
      expect(shapeOf(tree).depth).toBeLessThanOrEqual(6)
    }
  })

  it("regression trees do not depend on the scale of the target", () => {
    const ds = Diabetes.load()
    const shapeAt = (scale: number) => {
      const tree = DecisionTree.fit(Dataset.regression({ ...ds, y: ds.y.map((v) => v * scale) }), { maxDepth: 5 })
      return { shape: [tree.depth, tree.leaves], pred: tree.predict(ds.x.slice(0, 20)).map((v) => v / scale) }
    }
    const a = shapeAt(1), b = shapeAt(1e-9)
    expect(b.shape).toEqual(a.shape)
    b.pred.forEach((v, i) => expect(v).toBeCloseTo(a.pred[i], 6))
  })

  it("a split whose drawn features are all constant draws more (as scikit-learn), so forests still split", () => {
    // feature 0 is constant, feature 1 separates the classes; one candidate feature a split
    const x = Array.from({ length: 40 }, (_, i) => [7, i])
    const ds = Dataset.classification({ name: "half-constant", x, y: x.map((r) => (r[1] < 20 ? 0 : 1)), classNames: ["a", "b"] })
    const forest = RandomForest.fit(ds, { nEstimators: 20, maxFeatures: 0.5, bootstrap: false, seed: 2 })
    expect(forest.maxFeatures).toBe(1)
    expect(Model.score(forest, ds)).toBe(1)
    // every tree split on feature 1 (a tree stuck at its root would vote 0.5 / 0.5)
    expect(forest.predictProba(ds.x).every((p) => p[0] === 0 || p[0] === 1)).toBe(true)
  })

  it("scores as ml-cart does in 5-fold CV on breast cancer (same algorithm, another implementation)", () => {
    const ds = BreastCancer.load()
    const folds = CrossValidation.stratifiedKFold(ds.y, { k: 5, seed: 1 })
    const cv = (engine: DecisionTree.Engine) =>
      folds.reduce((a, f) => a + Model.score(DecisionTree.fit(Dataset.subset(ds, f.train), { engine, maxDepth: 4 }), Dataset.subset(ds, f.test)), 0) / 5
    const ours = cv("tunekit")
    expect(ours).toBeGreaterThan(0.9)
    expect(Math.abs(ours - cv("ml-cart"))).toBeLessThan(0.03)
  })
})

describe("the ml-random-forest engine", () => {
  it("learns breast cancer on a holdout; probabilities are its trees' vote shares", () => {
    const { train, test } = Split.holdout(BreastCancer.load(), { testFraction: 0.25, seed: 4, stratify: true })
    const forest = RandomForest.fit(train, { engine: "ml-random-forest", nEstimators: 10, maxDepth: 6, seed: 1 })
    expect(Model.score(forest, test)).toBeGreaterThan(0.9)
    for (const p of forest.predictProba(test.x.slice(0, 10))) {
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10)
      for (const v of p) expect(Math.round(v * 10)).toBeCloseTo(v * 10, 10) // multiples of 1/10
    }
  })

  it("says which options it cannot honour", () => {
    expect(() => RandomForest.fit(Iris.load(), { engine: "ml-random-forest", minSamplesLeaf: 3 })).toThrow(/randomForest.minSamplesLeaf: ml-random-forest has no minimum leaf size/)
    expect(() => RandomForest.fit(Iris.load(), { engine: "ml-random-forest", maxSamples: 0.5 })).toThrow(/randomForest.maxSamples/)
    expect(() => RandomForest.fit(Iris.load(), { engine: "sklearn" as never })).toThrow('randomForest.engine: expected one of "tunekit", "ml-cart", "ml-random-forest", got "sklearn"')
  })
})

describe("CART laws", () => {
  it("takes a split that gains nothing when the next one needs it (an XOR, found by the law below)", () => {
    const x = [[3, 2, 4], [3, 4, 4], [4, 2, 2], [4, 4, 2], [0, 0, 0], [0, 0, 0]]
    const y = [1, 0, 0, 1, 0, 0]
    const ds = Dataset.classification({ name: "xor", x, y, featureNames: ["a", "b", "c"], classNames: ["n", "p"] })
    expect(DecisionTree.fit(ds, {}).predict(x)).toEqual(y)
  })

  const rows = fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 2 })), { minLength: 2, maxLength: 40 })

  propTest.prop([rows])("a fully grown classification tree fits its training rows (where no equal rows disagree)", (data) => {
    // keep the first label of each distinct row, so the data is consistent
    const seen = new Map<string, number>()
    const clean = data.filter(([x, c]) => {
      const k = x.join(",")
      if (seen.has(k)) return seen.get(k) === c
      seen.set(k, c)
      return true
    })
    const ds = Dataset.classification({ name: "law", x: clean.map(([x]) => x), y: clean.map(([, c]) => c), classNames: ["a", "b", "c"] })
    const tree = DecisionTree.fit(ds)
    expect(tree.predict(ds.x)).toEqual(ds.y)
  })

  propTest.prop([rows])("a fully grown regression tree predicts the mean target of the equal rows", (data) => {
    const ds = Dataset.regression({ name: "law", x: data.map(([x]) => x), y: data.map(([, c]) => c * 1.5) })
    const tree = DecisionTree.fit(ds)
    const pred = tree.predict(ds.x)
    ds.x.forEach((x, i) => {
      const same = ds.y.filter((_, j) => ds.x[j].join(",") === x.join(","))
      expect(pred[i]).toBeCloseTo(same.reduce((a, b) => a + b, 0) / same.length, 10)
    })
  })

  propTest.prop([rows, fc.integer({ min: 1, max: 4 })])("maxDepth bounds every tree, and a forest's probabilities sum to one", (data, depth) => {
    const ds = Dataset.classification({ name: "law", x: data.map(([x]) => x), y: data.map(([, c]) => c), classNames: ["a", "b", "c"] })
    expect(DecisionTree.fit(ds, { maxDepth: depth }).depth).toBeLessThanOrEqual(depth)
    const forest = RandomForest.fit(ds, { nEstimators: 3, maxDepth: depth, seed: depth })
    for (const p of forest.predictProba(ds.x)) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10)
  })
})
