import { fc, test } from "@fast-check/vitest"
import { Rng, Sampler, Space, Storage, Study, Tracker } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Effect, Layer } from "effect"
import { Observable } from "rxjs"
import { describe, expect, it } from "vitest"
import { Asha, Budget, Hyperband, SuccessiveHalving } from "../src/index.js"
import { asha, type Bracket, levels, type RungOptions, synchronous } from "../src/internal/rungs.js"
import { KEY } from "../src/internal/rungs.js"
import { drive } from "./harness.js"

const single = (o: RungOptions): Bracket => ({ key: "b", rungs: levels(o) })

/** A noisy learning curve per trial: curves cross, and ties happen. */
const curves = (seed: number) => (number: number, step: number) => {
  const g = Rng.generator(seed, "curve", number)
  const final = g.next()
  const speed = 1 + 20 * g.next()
  const noise = Rng.generator(seed, "noise", number, step).next() * 0.05
  return Math.round((final + (1 - final) * Math.exp(-step / speed) + noise) * 100) / 100
}

const rungOptions = fc.record({
  minResource: fc.integer({ min: 1, max: 3 }),
  maxResource: fc.integer({ min: 3, max: 40 }),
  reductionFactor: fc.integer({ min: 2, max: 4 })
}).filter((o) => o.minResource <= o.maxResource)

describe("ASHA", () => {
  test.prop([rungOptions, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer(), fc.constantFrom("stopping" as const, "promotion" as const)], {
    numRuns: 60
  })("never lets more than ceil(n/eta) trials past a rung of n trials", (o, configurations, concurrency, seed, mode) => {
    const rs = levels(o)
    const eta = o.reductionFactor
    const core = asha("asha", o, mode, () => single(o))
    let decisions = 0
    drive(core, {
      configurations,
      concurrency,
      seed,
      maxResource: o.maxResource,
      value: curves(seed),
      check: (trials) => {
        decisions++
        rs.forEach((r, k) => {
          const reached = trials.filter((t) => t.intermediate.some((m) => m.step >= r))
          const past = reached.filter((t) => ((t.systemAttrs[KEY] as number | undefined) ?? 0) > k || t.intermediate.some((m) => m.step > r))
          expect(past.length).toBeLessThanOrEqual(Math.ceil(reached.length / eta))
          if (mode === "promotion") expect(past.length).toBeLessThanOrEqual(Math.floor(reached.length / eta))
        })
      }
    })
    expect(decisions).toBeGreaterThan(0)
  })

  test.prop([rungOptions, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 4 }), fc.integer(), fc.constantFrom("stopping" as const, "promotion" as const)], {
    numRuns: 30
  })("is deterministic for a seed and a history, whatever the order of the history", (o, configurations, concurrency, seed, mode) => {
    const core = asha("asha", o, mode, () => single(o))
    const shuffle = Rng.generator(seed, "shuffle")
    const run = () =>
      drive(core, {
        configurations,
        concurrency,
        seed,
        maxResource: o.maxResource,
        value: curves(seed),
        onDecide: (input, decision) => expect(core.decide({ ...input, history: shuffle.shuffle(input.history) }).decision).toEqual(decision)
      }).log
    expect(run()).toEqual(run())
  })

  it("stopping: the first trial at a rung goes on, later ones only into free places among the top ceil(n/eta)", () => {
    const o = { minResource: 1, maxResource: 3, reductionFactor: 3 }
    // values at step 1 by trial number, arriving in order: 5, 4, 3, 2, 1
    const run = drive(asha("asha", o, "stopping", () => single(o)), {
      configurations: 5,
      concurrency: 1,
      seed: 1,
      maxResource: 3,
      value: (n, step) => (step === 1 ? 5 - n : 0)
    })
    expect(run.trials.map((t) => t.state)).toEqual(["Complete", "Pruned", "Pruned", "Complete", "Pruned"])
  })

  it("promotion: pauses at rungs and resumes the best from the highest rung first", () => {
    const o = { minResource: 1, maxResource: 9, reductionFactor: 3 }
    const run = drive(asha("asha", o, "promotion", () => single(o)), {
      configurations: 9,
      concurrency: 1,
      seed: 1,
      maxResource: 9,
      value: (n, step) => n + 1 / step
    })
    // 9 reach rung 1, floor(9/3) = 3 are promoted (trials 0, 1, 2); one of those 3 goes past rung 3
    expect(run.trials.filter((t) => t.intermediate.some((m) => m.step >= 3)).map((t) => t.number)).toEqual([0, 1, 2])
    expect(run.trials.filter((t) => t.state === "Complete").map((t) => t.number)).toEqual([0])
    expect(run.log).toContain("resume 0 to 1")
  })
})

describe("successive halving and Hyperband", () => {
  it("plan the brackets of Li et al. 2018 for (R = 81, eta = 3)", () => {
    const p = Hyperband.plan({ minResource: 1, maxResource: 81, reductionFactor: 3 })
    expect(p.brackets.map((b) => b.configurations)).toEqual([81, 34, 15, 8, 5])
    expect(p.brackets[0].rungs).toEqual([
      { resource: 1, trials: 81 },
      { resource: 3, trials: 27 },
      { resource: 9, trials: 9 },
      { resource: 27, trials: 3 },
      { resource: 81, trials: 1 }
    ])
    expect(p.brackets[1].rungs.map((r) => [r.resource, r.trials])).toEqual([[3, 34], [9, 11], [27, 3], [81, 1]])
    // 81*1 + 27*2 + 9*6 + 3*18 + 1*54; 34*3 + 11*6 + 3*18 + 54; 15*9 + 5*18 + 54; 8*27 + 2*54; 5*81
    expect(p.brackets.map((b) => b.steps)).toEqual([297, 276, 279, 324, 405])
    expect(p.steps).toBe(1581)
    expect(Hyperband.plan({ minResource: 1, maxResource: 81, reductionFactor: 3, brackets: 2 }).brackets.map((b) => b.s)).toEqual([4, 3])
    expect(SuccessiveHalving.plan({ minResource: 1, maxResource: 9, reductionFactor: 3 }).steps).toBe(9 + 3 * 2 + 6)
    expect(Asha.rungs({ minResource: 1, maxResource: 81, reductionFactor: 3 })).toEqual([1, 3, 9, 27])
  })

  const optimize = (
    scheduler: Layer.Layer<import("@tunekit/core").Scheduler.Scheduler, never, Storage.Storage>,
    configurations: number,
    maxResource: number,
    seed: number,
    concurrency = 1
  ) => {
    const space = Space.struct({ x: Space.float(0, 1) })
    const value = curves(seed)
    const numberOf = new Map<number, number>()
    const services = Layer.mergeAll(
      scheduler,
      Budget.layerConfigurations(configurations).pipe(Layer.provide(Sampler.layerRandom)),
      Tracker.layerNone,
      Rng.layer({ seed })
    ).pipe(Layer.provideMerge(Storage.layerMemory))
    return Effect.runPromise(
      Study.optimize({
        study: "sh",
        space,
        concurrency,
        objective: (_c, trial) => {
          numberOf.set(trial.id, trial.number)
          return new Observable<Trial.Metric>((s) => {
            let step = (trial.resumeFrom ?? 0) + 1
            if (concurrency === 1) {
              for (; step <= maxResource && !s.closed; step++) s.next({ step, values: { value: value(trial.number, step) } })
              return s.complete()
            }
            // with several workers, one step per macrotask, so that the trials interleave
            let timer: NodeJS.Immediate | undefined
            const tick = () => {
              if (step > maxResource) return s.complete()
              s.next({ step, values: { value: value(trial.number, step) } })
              step++
              timer = setImmediate(tick)
            }
            timer = setImmediate(tick)
            return () => clearImmediate(timer)
          })
        }
      }).pipe(Effect.flatMap((r) => r.study.trials), Effect.provide(services), Effect.scoped)
    )
  }

  const spent = (trials: ReadonlyArray<Trial.FrozenTrial>) => trials.reduce((a, t) => a + t.intermediate.length, 0)

  test.prop([
    rungOptions,
    fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer()
  ], { numRuns: 15 })(
    "successive halving spends exactly the steps its bracket plan says, and leaves no trial paused, with any number of workers",
    async (o, configurations, limit, concurrency, seed) => {
      // several workers need the limit: it is what keeps idle workers waiting for paused trials
      const lim = limit ?? (concurrency > 1 ? SuccessiveHalving.plan({ ...o, ...(configurations === undefined ? {} : { configurations }) }).configurations : undefined)
      const options = { ...o, ...(configurations === undefined ? {} : { configurations }), ...(lim === undefined ? {} : { limit: lim }) }
      const plan = SuccessiveHalving.plan(options)
      fc.pre(plan.configurations <= 100)
      const trials = await optimize(SuccessiveHalving.layer(options), plan.configurations, o.maxResource, seed, concurrency)
      expect(trials.length).toBe(plan.configurations)
      expect(spent(trials)).toBe(plan.steps)
      expect(trials.filter((t) => t.state === "Complete").length).toBe(plan.brackets.reduce((a, b) => a + b.rungs[b.rungs.length - 1].trials, 0))
      expect(trials.every((t) => t.state === "Complete" || t.state === "Pruned")).toBe(true)
      // every trial trained each step once, resuming where it paused
      for (const t of trials) expect(t.intermediate.map((m) => m.step)).toEqual(t.intermediate.map((_, i) => i + 1))
    }
  )

  test.prop([rungOptions, fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }), fc.integer({ min: 1, max: 3 }), fc.integer()], { numRuns: 10 })(
    "Hyperband spends exactly the steps its brackets say, also when a limit cuts an iteration, with any number of workers",
    async (o, limit, concurrency, seed) => {
      const lim = limit ?? (concurrency > 1 ? Hyperband.plan(o).configurations : undefined)
      const options = { ...o, ...(lim === undefined ? {} : { limit: lim }) }
      const plan = Hyperband.plan(options)
      fc.pre(plan.configurations <= 150)
      const trials = await optimize(Hyperband.layer(options), plan.configurations, o.maxResource, seed, concurrency)
      expect(trials.length).toBe(lim ?? plan.configurations)
      expect(spent(trials)).toBe(plan.steps)
      expect(trials.filter((t) => t.state === "Complete").length).toBe(plan.brackets.reduce((a, b) => a + b.rungs[b.rungs.length - 1].trials, 0))
      expect(trials.every((t) => t.state === "Complete" || t.state === "Pruned")).toBe(true)
    }
  )

  it("a limit runs whole iterations, then every bracket with its share of the configurations left", () => {
    // 100 of one iteration's 81 + 34 + 15 + 8 + 5 = 143: shares 56.6, 23.8, 10.5, 5.6, 3.5, rounded by largest remainder
    const p = Hyperband.plan({ minResource: 1, maxResource: 81, reductionFactor: 3, limit: 100 })
    expect(p.brackets.map((b) => [b.s, b.configurations])).toEqual([[4, 57], [3, 24], [2, 10], [1, 6], [0, 3]])
    expect(p.brackets[1].rungs.map((r) => r.trials)).toEqual([24, 8, 2, 1])
    // two iterations of 9 + 5 + 3, then 6 left: shares 3.2, 1.8, 1.1
    const two = Hyperband.plan({ minResource: 9, maxResource: 81, reductionFactor: 3, limit: 40 })
    expect(two.brackets.map((b) => [b.iteration, b.s, b.configurations])).toEqual([
      [0, 2, 9], [0, 1, 5], [0, 0, 3], [1, 2, 9], [1, 1, 5], [1, 0, 3], [2, 2, 3], [2, 1, 2], [2, 0, 1]
    ])
    expect(Hyperband.plan({ minResource: 9, maxResource: 81, reductionFactor: 3, limit: 2 }).brackets.map((b) => [b.s, b.configurations])).toEqual([[2, 1], [1, 1]])
    const sh = SuccessiveHalving.plan({ minResource: 1, maxResource: 9, reductionFactor: 3, limit: 20 })
    expect(sh.brackets.map((b) => b.configurations)).toEqual([9, 9, 2])
    expect(sh.steps).toBe(21 + 21 + (2 * 1 + 1 * 2 + 1 * 6))
  })

  test.prop([rungOptions, fc.integer({ min: 1, max: 400 })])("a limit of L configurations: L in all, each bracket of the last iteration within one of its share", (o, limit) => {
    const iteration = Hyperband.plan(o).brackets
    const total = iteration.reduce((a, b) => a + b.configurations, 0)
    const p = Hyperband.plan({ ...o, limit })
    expect(p.configurations).toBe(limit)
    const whole = Math.floor(limit / total)
    for (const b of p.brackets) {
      const full = iteration.find((x) => x.s === b.s)!.configurations
      const share = b.iteration < whole ? full : ((limit - whole * total) * full) / total
      expect(Math.abs(b.configurations - share)).toBeLessThan(1)
    }
  })

  test.prop([rungOptions, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 5 }), fc.integer()], { numRuns: 30 })(
    "synchronous brackets are deterministic for a seed and a history, and keep the top floor(n/eta) at each rung",
    (o, configurations, concurrency, seed) => {
      const rs = levels(o)
      const core = synchronous("sh", o, () => ({ key: "b", rungs: rs, members: { start: 0, size: configurations } }))
      const shuffle = Rng.generator(seed, "shuffle")
      const run = () =>
        drive(core, {
          configurations,
          concurrency,
          seed,
          maxResource: o.maxResource,
          value: curves(seed),
          onDecide: (input, decision) => expect(core.decide({ ...input, history: shuffle.shuffle(input.history) }).decision).toEqual(decision)
        })
      const a = run()
      expect(a.log).toEqual(run().log)
      let n = configurations
      for (const r of [...rs, o.maxResource]) {
        expect(a.trials.filter((t) => t.intermediate.some((m) => m.step >= r)).length).toBe(n)
        n = Math.max(1, Math.floor(n / o.reductionFactor))
      }
    }
  )
})

describe("ASHA brackets", () => {
  it("assigns trial n to bracket n mod brackets, starting bracket b at minResource * eta^b, and compares within a bracket", () => {
    const asha = Asha.make({ minResource: 1, maxResource: 9, reductionFactor: 3, brackets: 2 })
    const at = (number: number, values: ReadonlyArray<number>, state: Trial.State = "Running"): Trial.FrozenTrial => ({
      id: 1000 + number, number, state, params: {}, distributions: {}, values: undefined,
      intermediate: values.map((v, i) => ({ step: i + 1, values: { value: v } })),
      userAttrs: {}, systemAttrs: {}, startedAt: 0, finishedAt: undefined, worker: undefined, reason: undefined
    })
    const history = [at(0, [1, 1, 1]), at(2, [1, 1, 1]), at(4, [1, 1, 1]), at(3, [20, 20, 10]), at(5, [20, 20, 11])]
    const objective = { metric: "value", direction: "minimize" as const }
    const decide = (t: Trial.FrozenTrial) => asha.decide({ trial: t, metric: t.intermediate[t.intermediate.length - 1], history, objective })._tag
    // odd trials have no rung at 1: the worst value there goes on
    expect(decide(at(7, [50]))).toBe("Continue")
    // at 3, trial 7 is compared with 3 and 5 only: the best of three goes on
    expect(decide(at(7, [50, 50, 9]))).toBe("Continue")
    expect(decide(at(7, [50, 50, 12]))).toBe("Prune")
    // even trials are compared at 1 with the even ones: 0, 2 and 4 all have 1
    expect(decide(at(6, [2]))).toBe("Prune")
  })
})
