import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Trial } from "@tunekit/core"
import * as gridCvForest from "../examples/grid-cv-forest.js"
import * as randomBoosting from "../examples/random-boosting.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-examples-trees-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("tree-model examples on a small budget", () => {
  it("grid search with 5-fold CV over a random forest: grid points once each, folds as steps, the cv_results_ table", async () => {
    const storage = path.join(dir, "grid.db")
    const { best, trials, table, csvPath, text } = await Effect.runPromise(gridCvForest.main({ trials: 4, trees: [5], storage, progress: false }))
    expect(trials).toHaveLength(4)
    // grid search: four different points of the grid
    expect(new Set(trials.map((t) => JSON.stringify(Trial.paramValues(t)))).size).toBe(4)
    for (const t of trials.filter((t) => t.state === "Complete")) {
      expect(t.intermediate.map((m) => m.step)).toEqual([0, 1, 2, 3, 4])
      const scores = t.intermediate.map((m) => m.values.score)
      expect(t.values![0]).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / 5, 12)
    }
    // a forest on this data is far above the majority class (63%)
    expect(best.values![0]).toBeGreaterThan(0.88)
    expect(table.find((r) => r.rank_test_score === 1)!.number).toBe(best.number)
    expect(text).toContain(`best config ${JSON.stringify(Trial.paramValues(best))}`)
    const csv = fs.readFileSync(csvPath, "utf8").split("\n")
    expect(csv[0]).toMatch(/^number,state,param_nEstimators,.*,split0_test_score,.*split4_test_score,mean_test_score,std_test_score,rank_test_score$/)
    expect(csv.filter((l) => l.length > 0)).toHaveLength(1 + 4)
    console.log(text)
  })

  it("random search over gradient boosting: CV RMSE per fold, the best refit and scored on the held-out part", async () => {
    const storage = path.join(dir, "boost.db")
    const { best, trials, holdout, text } = await Effect.runPromise(randomBoosting.main({ trials: 4, storage, progress: false }))
    expect(trials).toHaveLength(4)
    expect(trials.every((t) => t.state === "Complete")).toBe(true)
    for (const t of trials) expect(t.intermediate.map((m) => m.step)).toEqual([0, 1, 2])
    // the target's standard deviation is about 77: a tuned booster does clearly better
    expect(best.values![0]).toBeLessThan(70)
    expect(holdout.rmse).toBeLessThan(70)
    expect(holdout.r2).toBeGreaterThan(0.2)
    expect(text).toContain("best config")
    console.log(text)
  })
})
