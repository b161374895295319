import { fc, test } from "@fast-check/vitest"
import { Rng, Scheduler } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Asha, Hyperband, Median, Patience, Percentile, Pruner, SuccessiveHalving, Threshold, Wilcoxon } from "../src/index.js"
import { normalSf, ranks } from "../src/internal/wilcoxon.js"
import { maximize, minimize, trial } from "./fixtures.js"

const decideAt = (p: Pruner.Pruner, own: Trial.FrozenTrial, history: ReadonlyArray<Trial.FrozenTrial> = [], objective: Pruner.Objective = minimize) =>
  p.decide({ trial: own, metric: own.intermediate[own.intermediate.length - 1], history, objective })

const fiveComplete = [0, 1, 2, 3, 4].map((j) => trial(j, Array.from({ length: 12 }, (_, i) => 10 - (i + 1) + j)))

describe("Wilcoxon signed-rank test", () => {
  // scipy.stats.wilcoxon's documented example (Fisher's paired differences of plant heights)
  const d = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]

  it("gives scipy's exact p-values on Fisher's example", () => {
    const two = Wilcoxon.signedRank(d)
    expect(two.method).toBe("exact")
    expect(two.statistic).toBe(96)
    expect(two.pvalue).toBe(0.041259765625)
    expect(Wilcoxon.signedRank(d, "greater").pvalue).toBe(0.0206298828125)
    expect(Wilcoxon.signedRank(d, "less").pvalue).toBeCloseTo(1 - 0.0206298828125 + 1 / 32768 * countAt(d, 96), 12)
  })

  it("gives the normal approximation's p-value (scipy method='approx')", () => {
    expect(Wilcoxon.signedRank(d, "two-sided", "normal").pvalue).toBeCloseTo(0.0408881, 5)
    expect(normalSf(1.959963985)).toBeCloseTo(0.025, 7)
    expect(normalSf(0)).toBeCloseTo(0.5, 7)
    expect(normalSf(-3)).toBeCloseTo(0.9986501, 6)
  })

  it("ranks ties by their average", () => {
    expect(ranks([1, -2, 2, 3, 0])).toEqual([2, 3.5, 3.5, 5, 1])
  })

  test.prop([fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 1, maxLength: 11 })], { numRuns: 200 })(
    "the exact p-value is the share of sign patterns with W+ at least the observed one (ties and zeros included)",
    (xs) => {
      const r = ranks(xs)
      const idx = xs.map((x, i) => i).filter((i) => xs[i] !== 0)
      const observed = idx.reduce((a, i) => a + (xs[i] > 0 ? r[i] : 0), 0)
      let ge = 0
      for (let mask = 0; mask < 2 ** idx.length; mask++) {
        let w = 0
        idx.forEach((i, j) => void (mask & (1 << j) ? (w += r[i]) : 0))
        if (w >= observed - 1e-9) ge++
      }
      const expected = idx.length === 0 ? 1 : ge / 2 ** idx.length
      expect(Wilcoxon.signedRank(xs, "greater").pvalue).toBeCloseTo(expected, 12)
    }
  )

  test.prop([fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 30, maxLength: 45 })], { numRuns: 30 })(
    "the normal approximation is close to the exact test for 30+ differences",
    (xs) => {
      fc.pre(xs.filter((x) => x !== 0).length >= 30)
      expect(Math.abs(Wilcoxon.signedRank(xs, "greater", "normal").pvalue - Wilcoxon.signedRank(xs, "greater", "exact").pvalue)).toBeLessThan(0.02)
    }
  )
})

/** How many sign patterns give exactly W+ = w (for the "less" tail check). */
function countAt(xs: ReadonlyArray<number>, w: number): number {
  const r = ranks(xs)
  let c = 0
  for (let mask = 0; mask < 2 ** xs.length; mask++) {
    let s = 0
    for (let j = 0; j < xs.length; j++) if (mask & (1 << j)) s += r[j]
    if (s === w) c++
  }
  return c
}

describe("median and percentile", () => {
  it("compare the best value so far with the median of complete trials at the same step", () => {
    const median = Median.make()
    const own = trial(9, [8, 9, 9, 9], { state: "Running" }) // step 4: best 8, median 8: not worse
    expect(decideAt(median, own, fiveComplete)).toEqual(Scheduler.Continue)
    const later = trial(9, [8, 9, 9, 9, 9], { state: "Running" }) // step 5: median 7
    const d = decideAt(median, later, fiveComplete)
    expect(d._tag).toBe("Prune")
    expect((d as { reason: string }).reason).toBe("median: best value 8 by step 5 is worse than the median 7 of 5 complete trials at that step")
    // maximize: the median at step 5 is 7; a best of 6.5 is worse
    expect(decideAt(median, trial(9, [6.5], { state: "Running", start: 5 }), fiveComplete, maximize)._tag).toBe("Prune")
    expect(decideAt(median, trial(9, [7.5], { state: "Running", start: 5 }), fiveComplete, maximize)._tag).toBe("Continue")
  })

  it("interpolate percentiles linearly, ignore running trials and steps no complete trial has", () => {
    // step 1: complete values 9..13; 25th percentile 10, 75th 12
    const own = (v: number) => trial(9, [v], { state: "Running" })
    expect(decideAt(Percentile.make({ percentile: 25 }), own(10.1), fiveComplete)._tag).toBe("Prune")
    expect(decideAt(Percentile.make({ percentile: 25 }), own(10), fiveComplete)._tag).toBe("Continue")
    expect(decideAt(Percentile.make({ percentile: 75 }), own(11.9), fiveComplete)._tag).toBe("Continue")
    const running = fiveComplete.map((t) => ({ ...t, state: "Running" as const }))
    expect(decideAt(Median.make({ nStartupTrials: 0 }), own(100), running)._tag).toBe("Continue")
    expect(decideAt(Median.make(), trial(9, [100], { state: "Running", start: 13 }), fiveComplete)._tag).toBe("Continue")
    expect(decideAt(Median.make({ nMinTrials: 6 }), own(100), fiveComplete)._tag).toBe("Continue")
    expect(decideAt(Median.make(), own(NaN), fiveComplete)._tag).toBe("Prune")
  })

  it("judge only the first report of each interval after the warmup", () => {
    const median = Median.make({ nWarmupSteps: 2, intervalSteps: 3 })
    const judgedAt: Array<number> = []
    for (let s = 1; s <= 12; s++) {
      const own = trial(9, Array.from({ length: s }, () => 100), { state: "Running" })
      if (decideAt(median, own, fiveComplete)._tag === "Prune") judgedAt.push(s)
    }
    expect(judgedAt).toEqual([2, 5, 8, 11])
  })

  const histories = fc.array(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 8 }), { maxLength: 8 })
  test.prop([histories, fc.array(fc.double({ min: -10, max: 10 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 })])(
    "never prune during the startup trials or the warmup",
    (curves, own, startup, warmup) => {
      const history = curves.map((c, i) => trial(i, c))
      const me = trial(99, own, { state: "Running" })
      const step = own.length
      const d = decideAt(Median.make({ nStartupTrials: startup, nWarmupSteps: warmup }), me, history)
      if (history.length < startup || step < warmup) expect(d).toEqual(Scheduler.Continue)
      const p = decideAt(Percentile.make({ percentile: 10, nStartupTrials: startup, nWarmupSteps: warmup }), me, history)
      if (history.length < startup || step < warmup) expect(p).toEqual(Scheduler.Continue)
    }
  )
})

describe("patience", () => {
  it("counts reports without an improvement larger than minDelta", () => {
    const p = Patience.make({ patience: 2, minDelta: 0.1 })
    expect(decideAt(p, trial(0, [5, 4, 3.95, 3.92], { state: "Running" }))._tag).toBe("Prune")
    expect(decideAt(p, trial(0, [5, 4, 3.95, 3.85], { state: "Running" }))._tag).toBe("Continue")
    expect(decideAt(p, trial(0, [5, 4], { state: "Running" }))._tag).toBe("Continue")
    expect(decideAt(p, trial(0, [1, NaN, NaN], { state: "Running" }))._tag).toBe("Prune")
    expect(decideAt(p, trial(0, [NaN, NaN, 1], { state: "Running" }))._tag).toBe("Continue")
    expect(decideAt(p, trial(0, [1, 1.5, 2.2], { state: "Running" }), [], maximize)._tag).toBe("Continue")
  })
})

describe("combinators", () => {
  const prune = (reason: string) => Pruner.make(reason, () => Scheduler.Decision.Prune({ reason }))
  const cont = Pruner.make("continue", () => Scheduler.Continue)
  const pause = Pruner.make("pause", () => Scheduler.Decision.Pause())
  const own = trial(0, [1], { state: "Running" })
  it("any: the first prune; all: every prune, reasons joined; otherwise a pause or promote passes", () => {
    expect(decideAt(Pruner.any(cont, prune("a"), prune("b")), own, [])).toEqual(Scheduler.Decision.Prune({ reason: "a" }))
    expect(decideAt(Pruner.any(cont, pause), own, [])).toEqual(Scheduler.Decision.Pause())
    expect(decideAt(Pruner.all(prune("a"), prune("b")), own, [])).toEqual(Scheduler.Decision.Prune({ reason: "a; and b" }))
    expect(decideAt(Pruner.all(prune("a"), cont), own, [])).toEqual(Scheduler.Continue)
    expect(decideAt(Pruner.all(prune("a"), pause), own, [])).toEqual(Scheduler.Decision.Pause())
  })

  test.prop([fc.array(fc.constantFrom("p", "c"), { minLength: 1, maxLength: 5 })])("any prunes iff one prunes, all iff all prune", (kinds) => {
    const ps = kinds.map((k, i) => (k === "p" ? prune(`r${i}`) : cont))
    expect(decideAt(Pruner.any(...ps), own, [])._tag === "Prune").toBe(kinds.includes("p"))
    expect(decideAt(Pruner.all(...ps), own, [])._tag === "Prune").toBe(kinds.every((k) => k === "p"))
  })
})

describe("bad options", () => {
  const reasonOf = (p: Pruner.Pruner) => {
    const r = Effect.runSync(Effect.either(Pruner.validate(p)))
    return r._tag === "Left" ? `${r.left._tag}: ${r.left.message}` : undefined
  }
  it("are refused with a typed error that names the option", () => {
    expect(reasonOf(Asha.make({ minResource: 1, maxResource: 81, reductionFactor: 1.5 }))).toBe(
      "InvalidScheduler: asha scheduler: reductionFactor: expected a number >= 2, got 1.5"
    )
    expect(reasonOf(Hyperband.make({ minResource: 100, maxResource: 81 }))).toBe(
      "InvalidScheduler: hyperband scheduler: minResource: must not exceed maxResource (81), got 100"
    )
    expect(reasonOf(SuccessiveHalving.make({ minResource: 0, maxResource: 81 }))).toContain("minResource: expected a positive number, got 0")
    expect(reasonOf(Asha.make({ minResource: 1, maxResource: 9, brackets: 5 }))).toContain("brackets: must not exceed the number of rungs (2), got 5")
    expect(reasonOf(Percentile.make({ percentile: 0 }))).toContain("percentile: expected a number in (0, 100], got 0")
    expect(reasonOf(Median.make({ nWarmupSteps: -1 }))).toContain("nWarmupSteps: expected a number >= 0, got -1")
    expect(reasonOf(Median.make({ intervalSteps: 0 }))).toContain("intervalSteps: expected a positive integer, got 0")
    expect(reasonOf(Threshold.make({}))).toContain("give lower, upper or both")
    expect(reasonOf(Threshold.make({ lower: 2, upper: 1 }))).toContain("lower: must not be above upper (1), got 2")
    expect(reasonOf(Patience.make({ patience: 0 }))).toContain("patience: expected a positive integer, got 0")
    expect(reasonOf(Wilcoxon.make({ pThreshold: 1 }))).toContain("pThreshold: expected a number in (0, 1), got 1")
    expect(reasonOf(Pruner.any())).toBe("InvalidScheduler: any scheduler: needs at least one pruner")
    expect(reasonOf(Pruner.patience(Median.make({ nStartupTrials: -1 }), { patience: 2 }))).toContain("median scheduler: nStartupTrials: expected an integer >= 0, got -1")
    expect(reasonOf(Median.make())).toBeUndefined()
  })
})

describe("Threshold and Wilcoxon details", () => {
  it("threshold reasons name the bound", () => {
    const d = decideAt(Threshold.make({ lower: 0 }), trial(0, [-1], { state: "Running" }))
    expect(d).toEqual(Scheduler.Decision.Prune({ reason: "threshold: value at step 1 is -1, below the lower bound 0" }))
  })
  it("wilcoxon compares on shared steps only, with the best complete trial, in the objective's direction", () => {
    const best = trial(0, [5, 5, 5, 5, 5], { final: 5 })
    const worse = trial(1, [9, 9, 9, 9, 9], { final: 9 })
    const own = trial(9, [4, 4, 4, 4], { state: "Running", steps: [1, 2, 3, 7] }) // 3 shared steps with best
    // by maximize the best is `worse` (9); worse on 3 shared steps: p = 1/8
    expect(decideAt(Wilcoxon.make({ pThreshold: 0.2 }), own, [best, worse], maximize)._tag).toBe("Prune")
    expect(decideAt(Wilcoxon.make({ pThreshold: 0.1 }), own, [best, worse], maximize)._tag).toBe("Continue")
    expect(decideAt(Wilcoxon.make({ pThreshold: 0.2, nStartupSteps: 4 }), own, [best, worse], maximize)._tag).toBe("Continue") // only 3 shared
    expect(decideAt(Wilcoxon.make(), own, [best, worse], minimize)._tag).toBe("Continue") // better than the best
    expect(decideAt(Wilcoxon.make(), own, [], minimize)._tag).toBe("Continue")
  })
})

describe("determinism", () => {
  it("wilcoxon picks the same best trial in any order, skipping NaN values (found by the law below)", () => {
    const history = [trial(0, [0, NaN], { final: NaN }), trial(1, [NaN], { final: NaN }), trial(2, [3, 3], { final: 3 }), trial(3, [3, 1], { final: 3 })]
    const me = trial(100, [0, NaN], { state: "Running" })
    const w = Wilcoxon.make({ pThreshold: 0.3 })
    const d = decideAt(w, me, history, minimize)
    expect(decideAt(w, me, [...history].reverse(), minimize)).toEqual(d)
    expect(d).toEqual(Scheduler.Decision.Prune({ reason: "wilcoxon: value is NaN at step 2" }))
  })

  const pruners: ReadonlyArray<Pruner.Pruner> = [
    Median.make({ nStartupTrials: 2 }),
    Percentile.make({ percentile: 30, nStartupTrials: 1, intervalSteps: 2 }),
    Threshold.make({ lower: -5, upper: 5 }),
    Patience.make({ patience: 2, minDelta: 0.1 }),
    Wilcoxon.make({ pThreshold: 0.3 }),
    Pruner.any(Median.make({ nStartupTrials: 1 }), Patience.make({ patience: 3 })),
    Pruner.all(Threshold.make({ upper: 2 }), Median.make({ nStartupTrials: 1 })),
    Pruner.patience(Percentile.make({ percentile: 20, nStartupTrials: 1 }), { patience: 2 }),
    Asha.make({ minResource: 1, maxResource: 8, reductionFactor: 2 }),
    Asha.make({ minResource: 1, maxResource: 8, reductionFactor: 2, mode: "promotion", brackets: 2 }),
    SuccessiveHalving.make({ minResource: 1, maxResource: 8, reductionFactor: 2, configurations: 6 }),
    Hyperband.make({ minResource: 1, maxResource: 8, reductionFactor: 2 })
  ]
  const curve = fc.array(fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.constant(NaN)), { minLength: 1, maxLength: 9 })
  const stored = fc.record({ values: curve, state: fc.constantFrom<Trial.State>("Complete", "Running", "Pruned", "Waiting") })
  test.prop([fc.array(stored, { maxLength: 12 }), curve, fc.integer({ min: 0, max: 20 }), fc.integer()])(
    "every pruner and scheduler gives the same decision for the same history, in any order",
    (others, own, number, seed) => {
      const history = others.map((o, i) => trial(i, o.values, { state: o.state }))
      const me = trial(number + 100, own, { state: "Running" })
      const shuffled = Rng.generator(seed).shuffle(history)
      for (const p of pruners) {
        for (const objective of [minimize, maximize]) {
          const d = decideAt(p, me, history, objective)
          expect(decideAt(p, me, history, objective), p.name).toEqual(d)
          expect(decideAt(p, me, shuffled, objective), p.name).toEqual(d)
        }
      }
    }
  )
})
