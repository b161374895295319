// Export.foldMetric: whether a study's steps are cross-validation folds, which cv_results_ needs.
import { describe, expect, it } from "vitest"
import { Export, Trial } from "../src/index.js"

const trial = (number: number, state: Trial.State, value: number | undefined, steps: ReadonlyArray<Record<string, number>>): Trial.FrozenTrial => ({
  id: number, number, state, params: {}, distributions: {}, values: value === undefined ? undefined : [value],
  intermediate: steps.map((values, step) => ({ step, values })), userAttrs: {}, systemAttrs: {},
  startedAt: 0, finishedAt: 1, worker: undefined, reason: undefined
})
const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length

describe("Export.foldMetric", () => {
  it("finds the folds of a cross-validated study: each complete value is the mean of its scores at steps 0..k-1", () => {
    const folds = [[0.8, 0.9, 0.7], [0.6, 0.65, 0.7]]
    const trials = [
      ...folds.map((f, i) => trial(i, "Complete", mean(f), f.map((score) => ({ score })))),
      trial(2, "Pruned", 0.1, [{ score: 0.1 }]), // pruned after one fold: not a counter-example
      trial(3, "Failed", undefined, [])
    ]
    expect(Export.foldMetric(trials, "score")).toBe("score")
    expect(Export.foldMetric(trials, "loss")).toBeUndefined()
  })

  it("refuses a learning curve: the value is the last epoch's, not the mean over epochs", () => {
    const curve = [0.5, 0.7, 0.8]
    expect(Export.foldMetric([trial(0, "Complete", 0.8, curve.map((accuracy) => ({ accuracy })))], "accuracy")).toBeUndefined()
    // a single step is not cross-validation (k >= 2), though its value equals its "mean"
    expect(Export.foldMetric([trial(0, "Complete", 0.5, [{ accuracy: 0.5 }])], "accuracy")).toBeUndefined()
    // every complete trial must agree
    const cv = trial(0, "Complete", 0.6, [{ accuracy: 0.5 }, { accuracy: 0.7 }])
    expect(Export.foldMetric([cv], "accuracy")).toBe("accuracy")
    expect(Export.foldMetric([cv, trial(1, "Complete", 0.7, [{ accuracy: 0.5 }, { accuracy: 0.7 }])], "accuracy")).toBeUndefined()
    // steps that skip a fold index are not folds 0..k-1
    expect(Export.foldMetric([trial(0, "Complete", 0.6, [])].map((t) => ({ ...t, intermediate: [{ step: 0, values: { a: 0.5 } }, { step: 2, values: { a: 0.7 } }] })), "a")).toBeUndefined()
  })

  it("reads a study of CrossValidation.evaluate, which tracks mean_score, from its per-fold score", () => {
    const scores = [0.9, 0.8, 0.85]
    const steps = scores.map((score, i) => ({ score, mean_score: mean(scores.slice(0, i + 1)) }))
    expect(Export.foldMetric([trial(0, "Complete", mean(scores), steps)], "mean_score")).toBe("score")
  })

  it("has nothing to go on without a complete trial", () => {
    expect(Export.foldMetric([trial(0, "Pruned", 0.5, [{ score: 0.5 }, { score: 0.5 }])], "score")).toBeUndefined()
  })
})
