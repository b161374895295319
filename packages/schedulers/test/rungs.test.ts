import { fc, test } from "@fast-check/vitest"
import { Rng, Sampler, Space, Storage, Study, Tracker } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Effect, Layer } from "effect"
import { Observable } from "rxjs"
import { describe, expect, it } from "vitest"
import { Asha, Budget, Hyperband, RungRecord, SuccessiveHalving } from "../src/index.js"
import { asha, type Bracket, levels, type RungOptions, synchronous } from "../src/internal/rungs.js"
import { KEY, RECORD } from "../src/internal/rungs.js"
import type { Objective } from "../src/Pruner.js"
import { maximize, minimize, trial as fixture } from "./fixtures.js"
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
  test.prop([rungOptions, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer()], {
    numRuns: 60
  })("promotion never promotes more than floor(n/eta) of the n trials at a rung", (o, configurations, concurrency, seed) => {
    const rs = levels(o)
    const eta = o.reductionFactor
    const core = asha("asha", o, "promotion", () => single(o))
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
          expect(past.length).toBeLessThanOrEqual(Math.floor(reached.length / eta))
        })
      }
    })
    expect(decisions).toBeGreaterThan(0)
  })

  test.prop([rungOptions, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer(), fc.constantFrom(minimize, maximize)], {
    numRuns: 60
  })(
    "stopping: a trial goes on past a rung exactly when it ranks in the best max(1, floor(k/eta)) of the k values there when it arrives",
    (o, configurations, concurrency, seed, objective) => {
      const rs = levels(o)
      let judged = 0
      drive(asha("asha", o, "stopping", () => single(o)), {
        configurations,
        concurrency,
        seed,
        direction: objective.direction,
        maxResource: o.maxResource,
        value: curves(seed),
        onDecide: ({ history, metric, trial }, decision) => {
          const k = rs.indexOf(metric.step)
          if (k < 0) return expect(decision._tag).toBe("Continue")
          judged++
          // the values at the rung, by trial number; a sort (not the scheduler's count) ranks them
          const at = history.flatMap((t) => t.intermediate.filter((m) => m.step === metric.step).map((m) => ({ n: t.number, v: m.values.value })))
          const sign = objective.direction === "minimize" ? 1 : -1
          const ranked = at.sort((a, b) => sign * (a.v - b.v) || a.n - b.n)
          const keep = Math.max(1, Math.floor(ranked.length / o.reductionFactor))
          const position = ranked.findIndex((x) => x.n === trial.number) + 1
          expect(decision._tag).toBe(position <= keep ? "Continue" : "Prune")
        }
      })
      if (rs.length > 0) expect(judged).toBeGreaterThan(0)
    }
  )

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

  it("stopping: a better trial that reaches a rung later goes on; the first to arrive takes no place", () => {
    const o = { minResource: 1, maxResource: 3, reductionFactor: 3 }
    const states = (atRung: ReadonlyArray<number>) =>
      drive(asha("asha", o, "stopping", () => single(o)), {
        configurations: atRung.length,
        concurrency: 1,
        seed: 1,
        maxResource: 3,
        value: (n, step) => (step === 1 ? atRung[n] : 0)
      }).trials.map((t) => t.state)
    // each arrival is the best so far: all go on (the old cap let only ceil(5/3) = 2 past)
    expect(states([5, 4, 3, 2, 1])).toEqual(["Complete", "Complete", "Complete", "Complete", "Complete"])
    // each arrival is the worst so far: only the first goes on
    expect(states([1, 2, 3, 4, 5])).toEqual(["Complete", "Pruned", "Pruned", "Pruned", "Pruned"])
    // k = 6 at trial 5: the best 2 go on, and 1.5 ranks 2nd
    expect(states([3, 1, 2, 5, 4, 1.5])).toEqual(["Complete", "Complete", "Pruned", "Pruned", "Pruned", "Complete"])
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

// The laws of stopping ASHA (issue 9): the decision at a rung is a function of the values recorded
// there. Histories are arbitrary: any states, marks, start steps, values with ties and NaN.
describe("stopping ASHA's laws", () => {
  const states = ["Running", "Waiting", "Complete", "Pruned", "Failed"] as const
  const value = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 8 }).map((x) => x / 2) }, { weight: 1, arbitrary: fc.constant(NaN) })
  const other = fc.record({
    values: fc.array(value, { maxLength: 12 }),
    start: fc.integer({ min: 1, max: 4 }),
    state: fc.constantFrom(...states),
    mark: fc.integer({ min: 0, max: 3 })
  })
  /** A rung, a trial whose last report crosses it, and the study's other trials. */
  const scene = fc.record({
    o: rungOptions.filter((o) => levels(o).length > 0),
    pick: fc.nat(),
    objective: fc.constantFrom(minimize, maximize),
    own: fc.array(value, { minLength: 40, maxLength: 40 }),
    ownNumber: fc.nat({ max: 60 }),
    others: fc.uniqueArray(fc.tuple(fc.nat({ max: 60 }), other), { selector: ([n]) => n, maxLength: 25 })
  }).map(({ o, pick, objective, own, ownNumber, others }) => {
    const rs = levels(o)
    const rung = rs[pick % rs.length]
    const history = others
      .filter(([n]) => n !== ownNumber)
      .map(([n, x]) => fixture(n, x.values, { state: x.state, start: x.start, attrs: x.mark > 0 ? { [KEY]: x.mark } : {} }))
    const trial = fixture(ownNumber, own.slice(0, rung), { state: "Running" })
    return { o, rung, objective, trial, history }
  })
  type Scene = { readonly o: RungOptions; readonly objective: Objective; readonly trial: Trial.FrozenTrial; readonly history: ReadonlyArray<Trial.FrozenTrial> }
  /** The decision, with the trial in the history as storage lists it (at the end, or where `listed` puts it). */
  const decide = ({ o, objective, trial, history }: Scene, listed: ReadonlyArray<Trial.FrozenTrial> = [...history, trial]) =>
    asha("asha", o, "stopping", () => single(o)).decide({ trial, metric: trial.intermediate[trial.intermediate.length - 1], history: listed, objective })
      .decision
  /** The first report at or past the rung, as the scheduler reads it. */
  const atRung = (t: Trial.FrozenTrial, rung: number) => t.intermediate.find((m) => m.step >= rung)?.values.value

  test.prop([scene, fc.array(fc.constantFrom(...states), { minLength: 25, maxLength: 25 })], { numRuns: 300 })(
    "the decision depends only on the values recorded at the rung and the trial's own",
    (s, newStates) => {
      // The same values at the rung, and nothing else: one report each, at the rung, other states, no marks.
      const bare = (t: Trial.FrozenTrial, i: number): Array<Trial.FrozenTrial> => {
        const v = atRung(t, s.rung)
        return v === undefined ? [] : [fixture(t.number, [v], { state: newStates[i], start: s.rung })]
      }
      const reduced = { ...s, trial: fixture(s.trial.number, [atRung(s.trial, s.rung)!], { state: "Running", start: s.rung }), history: s.history.flatMap(bare) }
      expect(decide(reduced)).toEqual(decide(s))
    }
  )

  test.prop([scene, fc.integer({ min: 0, max: 4 })], { numRuns: 300 })("a trial that is the best at its rung always goes on", (s, margin) => {
    const others = s.history.map((t) => atRung(t, s.rung)).filter((v): v is number => v !== undefined && !Number.isNaN(v))
    const sign = s.objective.direction === "minimize" ? -1 : 1
    // better than every other value there, or as good with a smaller number (the tie-break)
    const best = others.length === 0 ? 0 : sign * Math.max(...others.map((v) => sign * v)) + sign * margin
    const first = others.length === 0 || margin > 0 || s.history.every((t) => atRung(t, s.rung) !== best || t.number > s.trial.number)
    fc.pre(first)
    const values = s.trial.intermediate.map((m) => m.values.value)
    values[values.length - 1] = best
    expect(decide({ ...s, trial: fixture(s.trial.number, values, { state: "Running" }) })._tag).toBe("Continue")
  })

  const listed = (s: Scene) => [...s.history, s.trial]
  test.prop([scene.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(listed(s), { minLength: listed(s).length })))], { numRuns: 300 })(
    "given the same values at the rung, the decision is the same whatever the order of the history",
    ([s, shuffled]) => {
      expect(decide(s, shuffled)).toEqual(decide(s))
    }
  )

  it("prunes a trial whose value at the rung is NaN, and leaves NaN out of the others' values", () => {
    const o = { minResource: 2, maxResource: 9, reductionFactor: 3 }
    const own = (v: number) => fixture(9, [5, v], { state: "Running" })
    const history = [fixture(0, [1, 1]), ...[1, 2, 3, 4, 5].map((n) => fixture(n, [1, NaN]))]
    expect(decide({ o, objective: minimize, trial: own(NaN), history: [] })._tag).toBe("Prune")
    // counting the NaNs, k = 7 and 2 would rank 2nd of the best 2; without them k = 2 and only the best goes on
    expect(decide({ o, objective: minimize, trial: own(2), history })._tag).toBe("Prune")
    expect(decide({ o, objective: minimize, trial: own(0.5), history })._tag).toBe("Continue")
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

  it("Hyperband's rungs are Algorithm 1's when maxResource / minResource is not a power of eta", () => {
    // R = 50 epochs in units of 1: s_max = floor(log_3 50) = 3, bracket s starts at 50 * 3^-s
    // (1.85, 5.56, 16.7, rounded up to whole epochs), not at 1, 3, 9, 27 with s_max = 4
    const one = { minResource: 1, maxResource: 50, reductionFactor: 3 }
    expect(Hyperband.rungs(one)).toEqual([2, 6, 17])
    // and a study's record of it (what the rungs plot reads) gives the same rungs
    expect(RungRecord.read({ [RECORD]: { scheduler: "hyperband", options: one } })?.rungs).toEqual([2, 6, 17])
    expect(RungRecord.read({ [RECORD]: { scheduler: "asha", options: one } })?.rungs).toEqual([1, 3, 9, 27])
    const p = Hyperband.plan(one)
    expect(p.brackets.map((b) => [b.s, b.configurations])).toEqual([[3, 27], [2, 12], [1, 6], [0, 4]])
    expect(p.brackets[1].rungs).toEqual([{ resource: 6, trials: 12 }, { resource: 17, trials: 4 }, { resource: 50, trials: 1 }])
    // 27*2 + 9*4 + 3*11 + 1*33; 12*6 + 4*11 + 33; 6*17 + 2*33; 4*50
    expect(p.brackets.map((b) => b.steps)).toEqual([156, 149, 168, 200])
    // R = 25 units of 2: s_max = 2, rungs 50/9 and 50/3; not 2, 6, 18 with s_max = 3
    expect(Hyperband.rungs({ minResource: 2, maxResource: 50, reductionFactor: 3 })).toEqual([6, 17])
    expect(Hyperband.plan({ minResource: 2, maxResource: 50, reductionFactor: 3 }).brackets.map((b) => b.configurations)).toEqual([9, 5, 3])
    // resources that are not whole numbers are not rounded
    expect(Hyperband.rungs({ minResource: 0.1, maxResource: 1, reductionFactor: 2 })).toEqual([1 / 8, 1 / 4, 1 / 2])
  })

  test.prop([fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 2, max: 4 })])(
    "Hyperband's rungs: s_max = floor(log_eta(R / r)) of them, ceil(R eta^-k), the powers of eta above minResource when R / r is one",
    (minResource, maxResource, eta) => {
      fc.pre(minResource <= maxResource)
      const o = { minResource, maxResource, reductionFactor: eta }
      const rs = Hyperband.rungs(o)
      let sMax = 0
      while (minResource * eta ** (sMax + 1) <= maxResource) sMax++
      expect(rs).toEqual(Array.from({ length: sMax }, (_, i) => Math.ceil(maxResource / eta ** (sMax - i) - 1e-9)))
      expect(Hyperband.plan(o).brackets.map((b) => b.s)).toEqual(Array.from({ length: sMax + 1 }, (_, i) => sMax - i))
      if (rs.length > 0) {
        expect(rs[0]).toBeGreaterThanOrEqual(minResource)
        expect(rs[0]).toBeLessThan(eta * minResource + 1)
        expect(rs[rs.length - 1]).toBeLessThan(maxResource)
      }
      for (let i = 1; i < rs.length; i++) expect(rs[i]).toBeGreaterThan(rs[i - 1])
      if (minResource * eta ** sMax === maxResource) expect(rs).toEqual(Asha.rungs(o))
    }
  )

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
