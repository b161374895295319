import { InvalidScheduler, Scheduler } from "@tunekit/core"
import { Observable } from "rxjs"
import { TestScheduler } from "rxjs/testing"
import { describe, expect, it } from "vitest"
import { Asha, Hyperband, Median, Operators, Patience, Percentile, Pruner, SuccessiveHalving, Threshold, Wilcoxon } from "../src/index.js"
import { m, trial } from "./fixtures.js"

const marbles = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

/** Values a..l as reports at steps 1..12 of the given values. */
const reports = (vs: ReadonlyArray<number>) => Object.fromEntries(vs.map((v, i) => ["abcdefghijkl"[i], m(i + 1, v)]))

// Five complete trials whose values at step s are 10 - s + j: the median at step s is 12 - s.
const fiveComplete = [0, 1, 2, 3, 4].map((j) => trial(j, Array.from({ length: 12 }, (_, i) => 10 - (i + 1) + j)))

describe("pruneWhen", () => {
  it("passes reports until the decision prunes, emits that report, completes and unsubscribes the trainer", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = reports([1, 2, 5, 1])
      const source = cold("-a-b-c-d|", values)
      const decide: Operators.Decide = (metric) =>
        metric.values.value > 3 ? Scheduler.Decision.Prune({ reason: "too high" }) : Scheduler.Continue
      expectObservable(source.pipe(Operators.pruneWhen(decide))).toBe("-a-b-(c|)", values)
      expectSubscriptions(source.subscriptions).toBe("^----!")
    })
  })

  it("lets a stream that is never pruned run to its end", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = reports([1, 2, 3])
      const source = cold("-a-b-c|", values)
      expectObservable(source.pipe(Operators.pruneWhen(Threshold.make({ upper: 10 })))).toBe("-a-b-c|", values)
      expectSubscriptions(source.subscriptions).toBe("^-----!")
    })
  })

  it("threshold: prunes at NaN and outside the bounds, after the warmup", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const nan = reports([1, 2, NaN, 1])
      const s1 = cold("-a-b-c-d|", nan)
      expectObservable(s1.pipe(Operators.pruneWhen(Threshold.make({ upper: 5 })))).toBe("-a-b-(c|)", nan)
      expectSubscriptions(s1.subscriptions).toBe("^----!")
      const high = reports([9, 2, 1, 7])
      const s2 = cold("-a-b-c-d|", high)
      // 9 at step 1 is inside the warmup of 2 steps; 7 at step 4 is not.
      expectObservable(s2.pipe(Operators.pruneWhen(Threshold.make({ upper: 5, nWarmupSteps: 2 })))).toBe("-a-b-c-(d|)", high)
      expectSubscriptions(s2.subscriptions).toBe("^------!")
      const low = reports([3, 2, 0.5])
      const s3 = cold("-a-b-c|", low)
      expectObservable(s3.pipe(Operators.pruneWhen(Threshold.make({ lower: 1 })))).toBe("-a-b-(c|)", low)
      expectSubscriptions(s3.subscriptions).toBe("^----!")
    })
  })

  it("median: prunes when the best so far is worse than the median of complete trials at that step", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      // medians 11, 10, 9, 8, 7: best so far 8 > 7 first at step 5
      const values = reports([8, 9, 9, 9, 9, 9])
      const source = cold("-a-b-c-d-e-f|", values)
      expectObservable(source.pipe(Operators.pruneWhen(Median.make(), { history: fiveComplete }))).toBe("-a-b-c-d-(e|)", values)
      expectSubscriptions(source.subscriptions).toBe("^--------!")
    })
  })

  it("median: never prunes in the warmup or before the startup trials", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = reports([8, 9, 9, 9, 9, 9])
      const s1 = cold("-a-b-c-d-e-f|", values)
      expectObservable(s1.pipe(Operators.pruneWhen(Median.make({ nWarmupSteps: 7 }), { history: fiveComplete }))).toBe("-a-b-c-d-e-f|", values)
      expectSubscriptions(s1.subscriptions).toBe("^-----------!")
      const s2 = cold("-a-b-c-d-e-f|", values)
      expectObservable(s2.pipe(Operators.pruneWhen(Median.make({ nStartupTrials: 6 }), { history: fiveComplete }))).toBe("-a-b-c-d-e-f|", values)
      expectSubscriptions(s2.subscriptions).toBe("^-----------!")
    })
  })

  it("percentile: keeps the best quarter", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      // 25th percentile at step s: 10 - s + 1, i.e. 10, 9, 8, ...: 9.5 > 9 at step 2
      const values = reports([9.5, 9.5, 9.5])
      const source = cold("-a-b-c|", values)
      expectObservable(source.pipe(Operators.pruneWhen(Percentile.make({ percentile: 25 }), { history: fiveComplete }))).toBe("-a-(b|)", values)
      expectSubscriptions(source.subscriptions).toBe("^--!")
    })
  })

  it("patience and earlyStop: stop after `patience` reports without improvement", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = reports([5, 4, 4.5, 4.2, 1])
      const s1 = cold("-a-b-c-d-e|", values)
      expectObservable(s1.pipe(Operators.pruneWhen(Patience.make({ patience: 2 })))).toBe("-a-b-c-(d|)", values)
      expectSubscriptions(s1.subscriptions).toBe("^------!")
      const s2 = cold("-a-b-c-d-e|", values)
      expectObservable(s2.pipe(Operators.earlyStop({ patience: 3 }))).toBe("-a-b-c-d-e|", values)
      expectSubscriptions(s2.subscriptions).toBe("^---------!")
      // maximize: 4.2 is no improvement over 5 by more than minDelta 1
      const s3 = cold("-a-b-c-d-e|", values)
      expectObservable(s3.pipe(Operators.earlyStop({ patience: 1, minDelta: 1, direction: "maximize" }))).toBe("-a-(b|)", values)
      expectSubscriptions(s3.subscriptions).toBe("^--!")
    })
  })

  it("wilcoxon: prunes once a trial is significantly worse than the best on the same folds", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const best = trial(0, [1, 2, 3, 4, 5, 6])
      // worse on every fold: the one-sided exact p-value is 2^-n; below 0.1 first at n = 4
      const values = reports([1.5, 2.1, 3.4, 4.2, 5.3, 6.1])
      const source = cold("-a-b-c-d-e-f|", values)
      expectObservable(source.pipe(Operators.pruneWhen(Wilcoxon.make(), { history: [best] }))).toBe("-a-b-c-(d|)", values)
      expectSubscriptions(source.subscriptions).toBe("^------!")
      // better on average: never pruned
      const good = reports([0.5, 2.1, 2.4, 4.2, 4.3, 6.1])
      const s2 = cold("-a-b-c-d-e-f|", good)
      expectObservable(s2.pipe(Operators.pruneWhen(Wilcoxon.make(), { history: [best] }))).toBe("-a-b-c-d-e-f|", good)
      expectSubscriptions(s2.subscriptions).toBe("^-----------!")
    })
  })

  it("any prunes at the first pruner's step, all at the last, patience(inner) waits for stagnation", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = reports([5, 6, 4, 7, 8, 9])
      const threshold = Threshold.make({ upper: 6.5 }) // prunes at d (7)
      const patience = Patience.make({ patience: 2 }) // 6, 4: improved; 4, 7: no... prunes at e (7, 8 after 4)
      const s1 = cold("-a-b-c-d-e-f|", values)
      expectObservable(s1.pipe(Operators.pruneWhen(Pruner.any(patience, threshold)))).toBe("-a-b-c-(d|)", values)
      expectSubscriptions(s1.subscriptions).toBe("^------!")
      const s2 = cold("-a-b-c-d-e-f|", values)
      expectObservable(s2.pipe(Operators.pruneWhen(Pruner.all(patience, threshold)))).toBe("-a-b-c-d-(e|)", values)
      expectSubscriptions(s2.subscriptions).toBe("^--------!")
      const s3 = cold("-a-b-c-d-e-f|", values)
      expectObservable(s3.pipe(Operators.pruneWhen(Pruner.patience(threshold, { patience: 2 })))).toBe("-a-b-c-d-(e|)", values)
      expectSubscriptions(s3.subscriptions).toBe("^--------!")
    })
  })

  it("asha (stopping): prunes at a rung outside the top 1/eta; promotion pauses there", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const others = [trial(0, [1], { state: "Running" }), trial(1, [2], { state: "Running" }), trial(2, [3], { state: "Running" })]
      const options = { minResource: 1, maxResource: 9, reductionFactor: 3 }
      const worst = reports([5, 4, 3])
      const s1 = cold("-a-b-c|", worst)
      expectObservable(s1.pipe(Operators.pruneWhen(Asha.make(options), { history: others, trial: { number: 3 } }))).toBe("-(a|)", worst)
      expectSubscriptions(s1.subscriptions).toBe("^!")
      // the best of the 4 values at rung 1 (the top max(1, floor(4/3)) = 1) goes on to rung 3, where it is alone
      const best = reports([0.5, 0.4, 0.3, 0.2])
      const s2 = cold("-a-b-c-d|", best)
      expectObservable(s2.pipe(Operators.pruneWhen(Asha.make(options), { history: others, trial: { number: 3 } }))).toBe("-a-b-c-d|", best)
      expectSubscriptions(s2.subscriptions).toBe("^-------!")
      // promotion: floor(4/3) = 1 place at rung 1 for the best; the others pause there
      const s3 = cold("-a-b-c|", worst)
      expectObservable(s3.pipe(Operators.pruneWhen(Asha.make({ ...options, mode: "promotion" }), { history: others, trial: { number: 3 } })))
        .toBe("-(a|)", worst)
      expectSubscriptions(s3.subscriptions).toBe("^!")
    })
  })

  it("successive halving and Hyperband pause a trial at a rung its bracket has not finished", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = reports([5, 4, 3])
      const s1 = cold("-a-b-c|", values)
      const sh = SuccessiveHalving.make({ minResource: 2, maxResource: 18, reductionFactor: 3 })
      expectObservable(s1.pipe(Operators.decisions(sh, { trial: { number: 0 } }))).toBe("-a-(b|)", {
        a: { metric: values.a, decision: Scheduler.Continue },
        b: { metric: values.b, decision: Scheduler.Decision.Pause() }
      })
      expectSubscriptions(s1.subscriptions).toBe("^--!")
      const s2 = cold("-a-b-c|", values)
      // trial 0 is in the most aggressive bracket, whose first rung is minResource
      const hb = Hyperband.make({ minResource: 1, maxResource: 9, reductionFactor: 3 })
      expectObservable(s2.pipe(Operators.pruneWhen(hb, { trial: { number: 0 } }))).toBe("-(a|)", values)
      expectSubscriptions(s2.subscriptions).toBe("^!")
    })
  })

  it("errors on subscription, without subscribing the trainer, when the options are bad", () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold("-a|", reports([1]))
      expectObservable(source.pipe(Operators.pruneWhen(Asha.make({ minResource: 1, maxResource: 9, reductionFactor: 1 })))).toBe(
        "#",
        undefined,
        new InvalidScheduler({ scheduler: "asha", reason: "reductionFactor: expected a number >= 2, got 1" })
      )
      expectSubscriptions(source.subscriptions).toBe([])
    })
  })
})

describe("operators on plain Observables", () => {
  it("stop a synchronous trainer at the pruning step", () => {
    let produced = 0
    const trainer = new Observable<ReturnType<typeof m>>((s) => {
      for (let step = 1; step <= 1000 && !s.closed; step++) {
        produced++
        s.next(m(step, step))
      }
      s.complete()
    })
    const seen: Array<number> = []
    trainer.pipe(Operators.pruneWhen(Threshold.make({ upper: 10 }))).subscribe((x) => seen.push(x.step))
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect(produced).toBe(11)
  })

  it("keep separate reports for each subscription", () => {
    marbles().run(({ cold, expectObservable }) => {
      const values = reports([5, 4, 4.5, 4.2])
      const source = cold("-a-b-c-d|", values)
      const stopped = source.pipe(Operators.earlyStop({ patience: 2 }))
      expectObservable(stopped).toBe("-a-b-c-(d|)", values)
      expectObservable(stopped).toBe("-a-b-c-(d|)", values)
    })
  })
})
