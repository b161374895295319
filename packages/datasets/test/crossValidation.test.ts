import { fc, test as propTest } from "@fast-check/vitest"
import { Effect, Layer, Option } from "effect"
import { lastValueFrom, toArray } from "rxjs"
import { describe, expect, it } from "vitest"
import { Export, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import { CrossValidation, Dataset, DecisionTree, InvalidSplit, Iris, Model, Sunspots, Wine } from "../src/index.js"

const sorted = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)
const all = (n: number) => Array.from({ length: n }, (_, i) => i)

/** Each fold's parts are disjoint and cover the rows; the test folds partition the rows. */
const expectPartition = (folds: ReadonlyArray<CrossValidation.Fold>, n: number) => {
  for (const f of folds) {
    expect(sorted([...f.train, ...f.test])).toEqual(all(n))
  }
  expect(sorted(folds.flatMap((f) => f.test))).toEqual(all(n))
}

describe("k-fold", () => {
  propTest.prop([fc.integer({ min: 2, max: 200 }), fc.integer({ min: 2, max: 12 }), fc.integer(), fc.boolean()])(
    "folds are disjoint, cover the data, and differ in size by at most one",
    (n, k, seed, shuffle) => {
      fc.pre(k <= n)
      const folds = CrossValidation.kFold(n, { k, seed, shuffle })
      expect(folds).toHaveLength(k)
      expectPartition(folds, n)
      const sizes = folds.map((f) => f.test.length)
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      expect(folds.map((f) => f.index)).toEqual(all(k))
    }
  )

  it("without shuffling, folds are contiguous as scikit-learn's (first n % k folds one larger)", () => {
    const folds = CrossValidation.kFold(7, { k: 3, shuffle: false })
    expect(folds.map((f) => f.test)).toEqual([[0, 1, 2], [3, 4], [5, 6]])
  })

  it("the same seed gives the same folds, another seed others", () => {
    expect(CrossValidation.kFold(50, { seed: 4 })).toEqual(CrossValidation.kFold(50, { seed: 4 }))
    expect(CrossValidation.kFold(50, { seed: 4 })).not.toEqual(CrossValidation.kFold(50, { seed: 5 }))
    const y = Wine.load().y
    expect(CrossValidation.stratifiedKFold(y, { seed: 2 })).toEqual(CrossValidation.stratifiedKFold(y, { seed: 2 }))
    expect(CrossValidation.stratifiedKFold(y, { seed: 2 })).not.toEqual(CrossValidation.stratifiedKFold(y, { seed: 3 }))
  })

  it("bad schemes throw InvalidSplit", () => {
    expect(() => CrossValidation.kFold(3, { k: 5 })).toThrow("kFold: k (5) must be at most the number of rows (3)")
    expect(() => CrossValidation.kFold(10, { k: 1 })).toThrow(InvalidSplit)
    expect(() => CrossValidation.repeated(10, { repeats: 0 })).toThrow(/repeats/)
    expect(() => CrossValidation.folds({ _tag: "StratifiedKFold" }, 10)).toThrow(/class labels/)
  })
})

describe("stratified k-fold", () => {
  propTest.prop([fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 10, maxLength: 300 }), fc.integer({ min: 2, max: 6 }), fc.integer()])(
    "disjoint, covering, each class within one row of its share in every fold",
    (labels, k, seed) => {
      const folds = CrossValidation.stratifiedKFold(labels, { k, seed })
      expectPartition(folds, labels.length)
      for (let c = 0; c <= 3; c++) {
        const total = labels.filter((l) => l === c).length
        for (const f of folds) {
          const inFold = f.test.filter((i) => labels[i] === c).length
          expect(Math.abs(inFold - total / k)).toBeLessThan(1)
        }
      }
      const sizes = folds.map((f) => f.test.length)
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
    }
  )

  it("iris in 5 folds: 10 of each species in every test fold", () => {
    const y = Iris.load().y
    for (const f of CrossValidation.stratifiedKFold(y, { k: 5, seed: 1 })) {
      expect([0, 1, 2].map((c) => f.test.filter((i) => y[i] === c).length)).toEqual([10, 10, 10])
    }
  })
})

describe("repeated", () => {
  it("k x repeats folds, each repeat a partition with its own shuffle, indexed across repeats", () => {
    const folds = CrossValidation.repeated(40, { k: 4, repeats: 3, seed: 1 })
    expect(folds).toHaveLength(12)
    expect(folds.map((f) => f.index)).toEqual(all(12))
    for (let r = 0; r < 3; r++) expectPartition(folds.filter((f) => f.repeat === r), 40)
    expect(folds[0].test).not.toEqual(folds[4].test)
    const y = Wine.load().y
    const strat = CrossValidation.repeated(y.length, { k: 3, repeats: 2, labels: y, seed: 2 })
    for (const f of strat) {
      const share = f.test.filter((i) => y[i] === 1).length / f.test.length
      expect(Math.abs(share - 71 / 178)).toBeLessThan(0.02)
    }
  })
})

describe("time series", () => {
  propTest.prop([fc.integer({ min: 6, max: 300 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 3 }), fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined })])(
    "never looks ahead: every training row precedes every test row (by more than the gap); tests are consecutive and disjoint",
    (n, k, gap, maxTrainSize) => {
      fc.pre(n - k * Math.floor(n / (k + 1)) - gap >= 1 && Math.floor(n / (k + 1)) >= 1)
      const folds = CrossValidation.timeSeries(n, { k, gap, maxTrainSize })
      expect(folds).toHaveLength(k)
      let lastTest = -1
      for (const f of folds) {
        expect(f.train.length).toBeGreaterThan(0)
        expect(Math.max(...f.train)).toBeLessThan(Math.min(...f.test) - gap)
        if (maxTrainSize !== undefined) expect(f.train.length).toBeLessThanOrEqual(maxTrainSize)
        expect(f.test).toEqual(Array.from({ length: f.test.length }, (_, i) => f.test[0] + i))
        expect(Math.min(...f.test)).toBeGreaterThan(lastTest)
        lastTest = Math.max(...f.test)
      }
      expect(lastTest).toBe(n - 1)
      // the window expands (without maxTrainSize)
      if (maxTrainSize === undefined) for (let i = 1; i < k; i++) expect(folds[i].train.length).toBeGreaterThan(folds[i - 1].train.length)
    }
  )

  it("matches scikit-learn's TimeSeriesSplit on 12 rows, 3 folds", () => {
    const folds = CrossValidation.timeSeries(12, { k: 3 })
    expect(folds.map((f) => [f.train.length, f.test])).toEqual([[3, [3, 4, 5]], [6, [6, 7, 8]], [9, [9, 10, 11]]])
    expect(() => CrossValidation.timeSeries(10, { k: 3, testSize: 3, gap: 1 })).toThrow(/leave no training rows/)
  })
})

describe("the CV objective and the service", () => {
  const data = Iris.load()
  const folds = CrossValidation.stratifiedKFold(data.y, { k: 5, seed: 0 })
  const score = ({ train, test }: CrossValidation.FoldData<Dataset.Classification>, c: { maxDepth: number }) =>
    Model.score(DecisionTree.fit(train, c), test)

  it("evaluate streams one metric a fold, at the fold's step, with the running mean", async () => {
    const ms = await lastValueFrom(CrossValidation.evaluate({ data, folds, score }, { maxDepth: 3 }).pipe(toArray()))
    expect(ms.map((m) => m.step)).toEqual([0, 1, 2, 3, 4])
    expect(ms.every((m) => m.values.score > 0.8 && m.values.score <= 1)).toBe(true)
    ms.forEach((m, i) => expect(m.values.mean_score).toBeCloseTo(ms.slice(0, i + 1).reduce((a, x) => a + x.values.score, 0) / (i + 1), 12))
  })

  it("the objective reports each fold and returns the mean; a prune stops the remaining folds", async () => {
    const reported: Array<number> = []
    const objective = CrossValidation.objective({ data, folds, score })
    const mean = await objective({ maxDepth: 3 }, { report: async (m) => void reported.push(m.values.score) })
    expect(reported).toHaveLength(5)
    expect(mean).toBeCloseTo(reported.reduce((a, b) => a + b, 0) / 5, 12)
    let calls = 0
    const pruned = objective({ maxDepth: 3 }, {
      report: async () => {
        if (++calls === 2) throw new Study.TrialPruned("bad")
      }
    })
    await expect(pruned).rejects.toBeInstanceOf(Study.TrialPruned)
    expect(calls).toBe(2)
  })

  it("in a study: folds stored as steps, a scheduler prunes after fold 1, the results table ranks the complete trials", async () => {
    // prunes any trial whose second fold scores below 0.9: a bad config stops after two folds
    const pruneLow = Layer.succeed(Scheduler.Scheduler, {
      name: "low",
      decide: (ctx) =>
        Effect.succeed(ctx.metric.step === 1 && ctx.metric.values.score < 0.9 ? Scheduler.Decision.Prune({ reason: "low" }) : Scheduler.Continue)
    })
    const layer = Layer.mergeAll(Storage.layerMemory, Sampler.layerGrid(), pruneLow, Tracker.layerNone, Rng.layer({ seed: 1 }))
    const program = Effect.gen(function*() {
      const cv = yield* CrossValidation.CrossValidation
      const objective = yield* cv.objective(data, score)
      return yield* Study.optimize({
        study: "cv",
        space: Space.struct({ maxDepth: Space.categorical([1, 3, 5] as const) }),
        metric: "score",
        direction: "maximize",
        objective
      })
    })
    const result = await Effect.runPromise(program.pipe(
      Effect.provide(CrossValidation.layer({ _tag: "StratifiedKFold", options: { k: 5, seed: 0 } })),
      Effect.provide(layer)
    ))
    const byDepth = new Map(result.trials.map((t) => [t.params.maxDepth === undefined ? -1 : (Object.values(t.params)[0] as number), t]))
    expect(result.trials).toHaveLength(3)
    const stumps = result.trials.find((t) => t.state === "Pruned")!
    expect(stumps).toBeDefined()
    expect(stumps.intermediate.map((m) => m.step)).toEqual([0, 1])
    const complete = result.trials.filter((t) => t.state === "Complete")
    expect(complete).toHaveLength(2)
    for (const t of complete) expect(t.intermediate.map((m) => m.step)).toEqual([0, 1, 2, 3, 4])
    expect(byDepth.size).toBe(3)

    const table = Export.cvRows(result.trials, { direction: "maximize" })
    expect(await Effect.runPromise(Export.cvRowsOf(result.study))).toEqual(table)
    for (const row of table) {
      const t = result.trials.find((x) => x.number === row.number)!
      const scores = t.intermediate.map((m) => m.values.score)
      expect(row.splits.filter((v) => v !== null)).toEqual(scores)
      const m = scores.reduce((a, b) => a + b, 0) / scores.length
      expect(row.mean_test_score).toBeCloseTo(m, 12)
      expect(row.std_test_score).toBeCloseTo(Math.sqrt(scores.reduce((a, b) => a + (b - m) ** 2, 0) / scores.length), 12)
      if (t.state === "Complete") expect(row.mean_test_score).toBeCloseTo(t.values![0], 12)
    }
    const pr = table.find((r) => r.state === "Pruned")!
    expect(pr.rank_test_score).toBeNull()
    expect(pr.splits.slice(2)).toEqual([null, null, null])
    const ranks = table.filter((r) => r.state === "Complete").sort((a, b) => a.rank_test_score! - b.rank_test_score!)
    expect(ranks[0].rank_test_score).toBe(1)
    expect(ranks[0].mean_test_score!).toBeGreaterThanOrEqual(ranks[1].mean_test_score!)
    expect(Option.getOrThrow(result.best).number).toBe(ranks[0].number)
    const csv = Export.cvToCsv(table).split("\n")
    expect(csv[0]).toBe("number,state,param_maxDepth,split0_test_score,split1_test_score,split2_test_score,split3_test_score,split4_test_score,mean_test_score,std_test_score,rank_test_score")
    expect(csv).toHaveLength(3 + 2)
  })

  it("the service fails with InvalidSplit for an impossible scheme", async () => {
    const cv = CrossValidation.make({ _tag: "KFold", options: { k: 500 } })
    const exit = await Effect.runPromise(Effect.either(cv.folds(data)))
    expect(exit._tag).toBe("Left")
    expect(exit._tag === "Left" && exit.left._tag).toBe("InvalidSplit")
  })

  it("a series is split by time", () => {
    const s = Sunspots.load()
    const fs = CrossValidation.folds({ _tag: "TimeSeries", options: { k: 4 } }, s)
    expect(fs).toHaveLength(4)
    expect(fs[3].test.at(-1)).toBe(308)
  })
})

describe("evaluate as a study objective (an Observable)", () => {
  it("with metric mean_score the trial's value is the mean over the folds; unsubscribing stops the folds", async () => {
    const data = Wine.load()
    const folds = CrossValidation.stratifiedKFold(data.y, { k: 4, seed: 0 })
    let fitted = 0
    const score = ({ train, test }: CrossValidation.FoldData<Dataset.Classification>, c: { maxDepth: number }) => {
      fitted++
      return Model.score(DecisionTree.fit(train, c), test)
    }
    const result = await Effect.runPromise(Study.optimize({
      study: "cv-stream",
      space: Space.struct({ maxDepth: Space.int(1, 4) }),
      metric: "mean_score",
      direction: "maximize",
      trials: 2,
      objective: (c) => CrossValidation.evaluate({ data, folds, score }, c)
    }).pipe(Effect.provide(Study.layerDefaults({ seed: 3 }))))
    for (const t of result.trials) {
      const scores = t.intermediate.map((m) => m.values.score)
      expect(scores).toHaveLength(4)
      expect(t.values![0]).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / 4, 12)
    }
    fitted = 0
    const sub = CrossValidation.evaluate({ data, folds, score }, { maxDepth: 2 }).subscribe((m) => {
      if (m.step === 0) sub.unsubscribe()
    })
    await new Promise((r) => setTimeout(r, 50))
    expect(fitted).toBe(1)
  })
})
