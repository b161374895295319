import { fc, test } from "@fast-check/vitest"
import { Rng, Sampler, Space, Storage, Study, Tracker, type Trial } from "@tunekit/core"
import { Deferred, Effect, Exit, Fiber, FiberRef, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { Asha, Budget, Fidelity, Hyperband } from "../src/index.js"

// A trial context for the objective alone: records reports, and prunes at the report `pruneAt`.
const fakeTrial = (number: number, options: { resumeFrom?: number; pruneAt?: number } = {}) => {
  const controller = new AbortController()
  const reports: Array<Trial.Metric> = []
  const trial = {
    number,
    id: number + 1,
    resumeFrom: options.resumeFrom,
    config: {},
    params: {},
    signal: controller.signal,
    report: async (m: Trial.Metric) => {
      reports.push(m)
      if (reports.length === options.pruneAt) {
        controller.abort()
        throw new Study.TrialPruned("test")
      }
    }
  } as unknown as Study.TrialContext<{ x: number }>
  return { trial, reports }
}

describe("Fidelity levels", () => {
  test.prop([fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 2, max: 5 })])(
    "are the schedulers' rungs then maxResource: increasing by eta from minResource",
    (min, extra, eta) => {
      const f = Fidelity.epochs({ minResource: min, maxResource: min + extra - 1, reductionFactor: eta })
      expect(f.levels).toEqual([...Asha.rungs(Fidelity.schedulerOptions(f)), f.maxResource])
      expect(f.levels[0]).toBe(f.minResource)
      for (let i = 1; i < f.levels.length - 1; i++) expect(f.levels[i]).toBeCloseTo(f.levels[i - 1] * eta, 9)
      expect(f.levels.at(-1)).toBe(f.maxResource)
    }
  )

  it("maps resources to the trainer's unit", () => {
    const data = Fidelity.fraction({ minResource: 1, maxResource: 27 })
    expect(data.levels).toEqual([1, 3, 9, 27])
    expect(data.levels.map(data.at)).toEqual([1 / 27, 3 / 27, 9 / 27, 1])
    const size = Fidelity.make("imageSize", { minResource: 8, maxResource: 64, reductionFactor: 2 }, (r) => `${r}px`)
    expect(size.levels.map(size.at)).toEqual(["8px", "16px", "32px", "64px"])
  })

  it.each([
    [{ minResource: 10, maxResource: 5 }, "minResource: must not exceed maxResource (5), got 10"],
    [{ minResource: 1, maxResource: 9, reductionFactor: 1 }, "reductionFactor: expected a number >= 2, got 1"],
    [{ minResource: 0, maxResource: 9 }, "minResource: expected a positive number, got 0"]
  ])("rejects %j with a clear error", (o, message) => {
    expect(() => Fidelity.epochs(o)).toThrowError(`fidelity "epochs": ${message}`)
    try {
      Fidelity.epochs(o)
    } catch (e) {
      expect((e as Fidelity.InvalidFidelity)._tag).toBe("InvalidFidelity")
    }
  })
})

describe("Fidelity.objective", () => {
  const epochs = Fidelity.epochs({ minResource: 1, maxResource: 27 })

  it("evaluates each level in turn, reports it at step = resource, and returns the full-resource value", async () => {
    const seen: Array<[number, number | undefined]> = []
    const objective = Fidelity.objective(epochs, (c: { x: number }, e) => {
      seen.push([e.fidelity, e.previous?.resource])
      return Promise.resolve(c.x / e.fidelity)
    }, { metric: "loss" })
    const { trial, reports } = fakeTrial(0)
    expect(await Effect.runPromise(objective({ x: 54 }, trial))).toBe(2)
    expect(reports).toEqual([1, 3, 9, 27].map((r) => ({ step: r, values: { loss: 54 / r } })))
    expect(seen).toEqual([[1, undefined], [3, 1], [9, 3], [27, 9]])
  })

  it("starts no further level once the scheduler stops the trial (it waits for each decision)", async () => {
    let calls = 0
    const objective = Fidelity.objective(epochs, (_: { x: number }, e) => (calls++, Effect.succeed(e.fidelity)))
    const { trial, reports } = fakeTrial(0, { pruneAt: 2 })
    expect(await Effect.runPromise(Effect.flip(objective({ x: 1 }, trial)))).toBeInstanceOf(Study.TrialPruned)
    expect(reports.map((m) => m.step)).toEqual([1, 3])
    expect(calls).toBe(2)
  })

  it("resumes after the levels a paused trial has done, warm-starting from the last one", async () => {
    const seen: Array<[number, number | undefined]> = []
    const objective = Fidelity.objective(epochs, (_: { x: number }, e) => (seen.push([e.resource, e.previous?.resource]), { value: e.fidelity, other: 1 }))
    const { trial, reports } = fakeTrial(0, { resumeFrom: 3 })
    expect(await Effect.runPromise(objective({ x: 1 }, trial))).toBe(27)
    expect(reports.map((m) => m.step)).toEqual([9, 27])
    expect(reports[0].values).toEqual({ value: 9, other: 1 })
    expect(seen).toEqual([[9, 3], [27, 9]])
  })

  it("runs an evaluation given as an Effect in the objective's own fiber: it sees the caller's fiber refs, and interruption reaches it", async () => {
    const level = FiberRef.unsafeMake(0)
    const objective = Fidelity.objective(epochs, () => FiberRef.get(level))
    const { trial, reports } = fakeTrial(0)
    expect(await Effect.runPromise(objective({ x: 1 }, trial).pipe(Effect.locally(level, 7)))).toBe(7)
    expect(reports.map((m) => m.values.value)).toEqual([7, 7, 7, 7])

    let interrupted = false
    const started = Effect.runSync(Deferred.make<void>())
    const stuck = Fidelity.objective(epochs, () =>
      Deferred.succeed(started, undefined).pipe(Effect.zipRight(Effect.never), Effect.onInterrupt(() => Effect.sync(() => void (interrupted = true)))))
    const exit = await Effect.runPromise(Effect.gen(function*() {
      const fiber = yield* Effect.fork(stuck({ x: 1 }, fakeTrial(1).trial))
      yield* Deferred.await(started)
      return yield* Fiber.interrupt(fiber)
    }))
    expect(Exit.isInterrupted(exit)).toBe(true)
    expect(interrupted).toBe(true)
  })

  it("hyperbandStart starts each trial at its bracket's first rung", () => {
    const o = { minResource: 1, maxResource: 27, reductionFactor: 3 }
    const plan = Hyperband.plan(o)
    const start = Fidelity.hyperbandStart(o)
    const starts = Array.from({ length: plan.configurations * 2 }, (_, n) => start({ number: n }))
    const expected = plan.brackets.flatMap((b) => Array.from({ length: b.configurations }, () => b.rungs[0].resource))
    expect(starts).toEqual([...expected, ...expected])
    expect(new Set(starts)).toEqual(new Set([1, 3, 9, 27]))
  })
})

// A toy problem with a fidelity: the score of a config measured on a fraction of the data is its
// true score plus an error that shrinks as the fraction grows.
const space = Space.struct({ x: Space.float(0, 1) })
const truth = (x: number) => (x - 0.3) ** 2
const measured = (x: number, fraction: number) => truth(x) + 0.05 * (1 - fraction) * Math.sin(40 * x)

const runWith = (scheduler: Layer.Layer<any, never, Storage.Storage>, configurations: number, startAt?: (t: Study.TrialContext<{ x: number }>) => number) => {
  const data = Fidelity.fraction({ minResource: 1, maxResource: 27, reductionFactor: 3 })
  const calls: Array<{ trial: number; fraction: number }> = []
  const program = Study.optimize({
    study: "fid",
    space,
    metric: "error",
    direction: "minimize",
    concurrency: 3,
    objective: Fidelity.objective(data, (c, e) => {
      calls.push({ trial: e.trial.number, fraction: e.fidelity })
      return Promise.resolve(measured(c.x, e.fidelity))
    }, { metric: "error", ...(startAt ? { startAt } : {}) })
  })
  return Effect.runPromise(
    program.pipe(
      Effect.flatMap((r) => Effect.map(r.study.trials, (all) => ({ ...r, all }))),
      Effect.provide(Layer.mergeAll(scheduler, Budget.layerConfigurations(configurations).pipe(Layer.provide(Sampler.layerRandom)), Tracker.layerNone).pipe(
        Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed: 5 })))
      ))
    ) as Effect.Effect<Study.Result<{ x: number }> & { all: ReadonlyArray<Trial.FrozenTrial> }>
  ).then((r) => ({ ...r, calls, data }))
}

describe("Fidelity with the schedulers", () => {
  it("ASHA controls the fraction of the data: each trial gets a prefix of the levels, few get all of it", async () => {
    const r = await runWith(Asha.layer({ minResource: 1, maxResource: 27, reductionFactor: 3 }), 27)
    const levels = r.data.levels
    for (const t of r.all) {
      const steps = t.intermediate.map((m) => m.step)
      expect(steps).toEqual(levels.slice(0, steps.length))
      const mine = r.calls.filter((c) => c.trial === t.number).map((c) => c.fraction)
      expect(mine).toEqual(steps.map(r.data.at))
    }
    const full = r.all.filter((t) => t.intermediate.at(-1)?.step === 27).length
    expect(full).toBeGreaterThan(0)
    expect(full).toBeLessThanOrEqual(Math.ceil(27 / 9) + 2)
    const spent = r.calls.reduce((a, c) => a + c.fraction, 0)
    expect(spent).toBeLessThan(27 / 3)
  })

  it("Hyperband with hyperbandStart evaluates each trial from its bracket's first rung", async () => {
    const o = { minResource: 1, maxResource: 27, reductionFactor: 3 }
    const plan = Hyperband.plan(o)
    const start = Fidelity.hyperbandStart(o)
    const r = await runWith(Hyperband.layer(o), plan.configurations, start)
    expect(r.all.length).toBe(plan.configurations)
    // Every bracket's survivors reach the full data; the rest stop at a rung (paused or pruned).
    const full = r.all.filter((t) => t.intermediate.at(-1)?.step === 27)
    expect(full.length).toBe(plan.brackets.reduce((a, b) => a + b.rungs.at(-1)!.trials, 0))
    for (const t of r.all) {
      const first = r.calls.find((c) => c.trial === t.number)!
      expect(first.fraction).toBe(r.data.at(start({ number: t.number })))
    }
  })
})
