import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Space, Study } from "@tunekit/core"
import { Boosting, BreastCancer, Dataset, Model, RandomForest, Split } from "../src/index.js"

// Bad input inside a study: an impossible config or a broken dataset fails its own trial, with
// the typed error's message stored as the reason, and the study goes on.
describe("tree models in a study", () => {
  it("an impossible config fails its trial alone", async () => {
    const { train, test } = Split.holdout(BreastCancer.load(), { seed: 1, stratify: true })
    const result = await Effect.runPromise(Study.optimize({
      study: "bad-configs",
      space: Space.struct({ maxFeatures: Space.categorical([5, 50, "sqrt"] as const), boost: Space.categorical([false, true]) }),
      direction: "maximize",
      enqueue: [{ maxFeatures: 50, boost: false }, { maxFeatures: 5, boost: false }, { maxFeatures: "sqrt", boost: true }],
      trials: 3,
      objective: (c) =>
        c.boost
          ? Boosting.score(train, test, { nEstimators: 10, learningRate: 2 })
          : Model.score(RandomForest.fit(train, { nEstimators: 5, maxFeatures: c.maxFeatures }), test)
    }).pipe(Effect.provide(Study.layerDefaults({ seed: 1 }))))
    const [tooMany, fine, badRate] = result.trials
    expect(tooMany.state).toBe("Failed")
    expect(tooMany.reason).toContain("randomForest.maxFeatures: 50 features asked for, breast-cancer has 30")
    expect(fine.state).toBe("Complete")
    expect(fine.values![0]).toBeGreaterThan(0.85)
    expect(badRate.state).toBe("Failed")
    expect(badRate.reason).toContain("boosting.learningRate: expected a number in (0, 1], got 2")
  })

  it("a dataset with NaN fails the trial that builds it, naming the row", async () => {
    const data = BreastCancer.load()
    const result = await Effect.runPromise(Study.optimize({
      study: "bad-data",
      space: Space.struct({ corrupt: Space.categorical([true, false]) }),
      direction: "maximize",
      enqueue: [{ corrupt: true }, { corrupt: false }],
      trials: 2,
      objective: (c) => {
        const x = c.corrupt ? data.x.map((r, i) => (i === 7 ? r.map((v, j) => (j === 2 ? NaN : v)) : r)) : data.x
        const ds = Dataset.classification({ ...data, x })
        const { train, test } = Split.holdout(ds, { seed: 1, stratify: true })
        return Model.score(RandomForest.fit(train, { nEstimators: 5 }), test)
      }
    }).pipe(Effect.provide(Study.layerDefaults({ seed: 1 }))))
    expect(result.trials[0].state).toBe("Failed")
    expect(result.trials[0].reason).toContain("breast-cancer: feature mean perimeter of row 7 is NaN, not a finite number")
    expect(result.trials[1].state).toBe("Complete")
  })
})
