import { fc, test } from "@fast-check/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Observable } from "rxjs"
import { it as effectIt } from "@effect/vitest"
import { describe, expect, it } from "vitest"
import { Rng, Sampler, Scheduler, Space, Storage, Study, Tracker, Trial } from "../src/index.js"

const services = (options: { seed?: number; sampler?: Layer.Layer<Sampler.Sampler>; storage?: Layer.Layer<Storage.Storage, any>; scheduler?: Layer.Layer<Scheduler.Scheduler> } = {}) =>
  Layer.mergeAll(
    options.storage ?? Storage.layerMemory,
    options.sampler ?? Sampler.layerRandom,
    options.scheduler ?? Scheduler.layerNone,
    Tracker.layerNone,
    Rng.layer({ seed: options.seed ?? 1 })
  )

const run = <A, E>(e: Effect.Effect<A, E, Study.Services>, options?: Parameters<typeof services>[0]) =>
  Effect.runPromise(Effect.scoped(e.pipe(Effect.provide(services(options)))))

const tmpdb = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-study-")), "study.db")

const space = Space.struct({
  x: Space.float(-5, 5),
  n: Space.int(1, 4),
  opt: Space.branch({ sgd: Space.struct({ m: Space.float(0, 1, { step: 0.25 }) }), adam: Space.struct({ b: Space.categorical(["a", "b"]) }) })
})

describe("Study.optimize", () => {
  it("runs the budget, stores every trial and finds the best", async () => {
    const r = await run(Study.optimize({ study: "q", space, objective: (c) => (c.x - 1) ** 2 + c.n, trials: 40 }))
    expect(r.trials.length).toBe(40)
    expect(r.trials.every((t) => t.state === "Complete")).toBe(true)
    const best = Option.getOrThrow(r.best)
    expect(best.values![0]).toBe(Math.min(...r.trials.map((t) => t.values![0])))
    const p = Trial.paramValues(best)
    expect(best.values![0]).toBeCloseTo(((p.x as number) - 1) ** 2 + (p.n as number), 12)
  })

  test.prop([fc.integer(), fc.integer()], { numRuns: 20 })("gives the same suggestions for the same seed and different ones for another", async (s1, s2) => {
    fc.pre(s1 !== s2)
    const params = (seed: number) =>
      run(Study.optimize({ study: "s", space, objective: (c) => c.x, trials: 10 }), { seed }).then((r) => r.trials.map((t) => t.params))
    const [a, b, c] = await Promise.all([params(s1), params(s1), params(s2)])
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
  })

  it("accepts numbers, Promises, Effects and Observables, and fails NaN, Infinity and throws alone", async () => {
    const kinds = ["number", "promise", "effect", "observable", "nan", "inf", "throw", "reject", "string", "die"] as const
    const r = await run(Study.optimize({
      study: "kinds",
      metric: "loss",
      objective: (_, t): any => {
        const kind = kinds[t.number]
        switch (kind) {
          case "number": return 1
          case "promise": return Promise.resolve(2)
          case "effect": return Effect.succeed(3)
          case "observable": return new Observable((s) => { s.next({ step: 0, values: { loss: 5 } }); s.next({ step: 1, values: { loss: 4 } }); s.complete() })
          case "nan": return NaN
          case "inf": return Promise.resolve(-Infinity)
          case "throw": throw new Error("boom")
          case "reject": return Promise.reject(new Error("rejected"))
          case "string": return "high"
          case "die": return Effect.die(new Error("defect"))
        }
      },
      trials: kinds.length
    }))
    const summary = r.trials.map((t) => [t.state, t.values?.[0], t.reason])
    expect(summary).toEqual([
      ["Complete", 1, undefined],
      ["Complete", 2, undefined],
      ["Complete", 3, undefined],
      ["Complete", 4, undefined],
      ["Failed", undefined, "the objective returned NaN, which is not a finite number"],
      ["Failed", undefined, "the objective returned -Infinity, which is not a finite number"],
      ["Failed", undefined, "the objective failed: boom"],
      ["Failed", undefined, "the objective failed: rejected"],
      ["Failed", undefined, 'the objective returned "high", not a number or an array of numbers'],
      ["Failed", undefined, "the objective failed: defect"]
    ])
    expect(r.trials[3].intermediate).toEqual([{ step: 0, values: { loss: 5 } }, { step: 1, values: { loss: 4 } }])
  })

  it("stores each metric as it arrives and unsubscribes a pruned stream", async () => {
    let unsubscribedAt: number | undefined
    const storedWhileRunning: Array<number> = []
    const pruneAt2: Scheduler.SchedulerService = {
      name: "at2",
      decide: (ctx) =>
        Effect.gen(function*() {
          const t = (yield* ctx.history).find((h) => h.id === ctx.trial.id)!
          storedWhileRunning.push(t.intermediate.length)
          return ctx.metric.step >= 2 ? Scheduler.Decision.Prune({ reason: "step 2" }) : Scheduler.Continue
        })
    }
    const r = await run(
      Study.optimize({
        study: "prune",
        metric: "loss",
        objective: () =>
          new Observable<Trial.Metric>((s) => {
            let step = 0
            const id = setInterval(() => s.next({ step, values: { loss: 10 - step++ } }), 2)
            return () => {
              unsubscribedAt = step
              clearInterval(id)
            }
          }),
        trials: 1
      }),
      { scheduler: Layer.succeed(Scheduler.Scheduler, pruneAt2) }
    )
    const [t] = r.trials
    expect([t.state, t.reason, t.values, Trial.lastStep(t)]).toEqual(["Pruned", "step 2", [8], 2])
    expect(storedWhileRunning).toEqual([1, 2, 3])
    expect(unsubscribedAt).toBeGreaterThanOrEqual(3)
    expect(unsubscribedAt).toBeLessThan(6)
  })

  it("asks the scheduler to finish when the run ends and no trial of the study is Running, not before", async () => {
    // A scheduler that pauses every trial at step 1 and records what its finish hook sees.
    const seen: Array<{ waiting: number; running: number }> = []
    const pauser: Scheduler.SchedulerService = {
      name: "pauser",
      decide: () => Effect.succeed(Scheduler.Decision.Pause()),
      finish: (ctx) =>
        Effect.map(ctx.history, (ts) => void seen.push({ waiting: ts.filter((t) => t.state === "Waiting").length, running: ts.filter((t) => t.state === "Running").length }))
    }
    const objective = () => new Observable<Trial.Metric>((s) => s.next({ step: 1, values: { value: 1 } }))
    const db = tmpdb()
    const layer = { scheduler: Layer.succeed(Scheduler.Scheduler, pauser), storage: Storage.layerSqlite(db) }
    await run(Study.optimize({ study: "paused", objective, trials: 3, concurrency: 2 }), layer)
    expect(seen).toEqual([{ waiting: 3, running: 0 }])
    // Another worker's trial is Running in storage: this run is not the last to end, so no finish.
    await run(Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const info = yield* storage.getStudy("paused")
      yield* storage.createTrial(info.id, { state: "Running", worker: "elsewhere:1" })
    }), layer)
    await run(Study.optimize({ study: "paused", objective, trials: 2 }), layer)
    expect(seen).toHaveLength(1)
  })

  it("lets Promise code report and be pruned through TrialPruned, and aborts its signal", async () => {
    let aborted = false
    const prune: Scheduler.SchedulerService = {
      name: "p",
      decide: (ctx) => Effect.succeed(ctx.metric.values.loss > 5 ? Scheduler.Decision.Prune({ reason: "too high" }) : Scheduler.Continue)
    }
    const r = await run(
      Study.optimize({
        study: "promise-prune",
        metric: "loss",
        objective: async (_, trial) => {
          trial.signal.addEventListener("abort", () => (aborted = true))
          await trial.report({ step: 0, values: { loss: 9 } })
          return 1
        },
        trials: 1
      }),
      { scheduler: Layer.succeed(Scheduler.Scheduler, prune) }
    )
    expect([r.trials[0].state, r.trials[0].reason, r.trials[0].values]).toEqual(["Pruned", "too high", [9]])
    expect(aborted).toBe(true)
  })

  // On Effect's TestClock: time moves only when the test moves it.
  const onTestClock = <A, E>(study: Effect.Effect<A, E, Storage.Storage>) =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(study.pipe(Effect.provide(services())))
      yield* TestClock.adjust("1 second")
      return yield* Fiber.join(fiber)
    })

  effectIt.effect("fails a trial that runs past trialTimeout and aborts its signal", () =>
    Effect.gen(function*() {
      let aborted = false
      const r = yield* onTestClock(Study.optimize({
        study: "slow",
        objective: (_, trial) => {
          trial.signal.addEventListener("abort", () => (aborted = true))
          return Effect.as(Effect.sleep("5 seconds"), 1)
        },
        trialTimeout: "50 millis",
        trials: 1
      }))
      expect(r.trials[0].state).toBe("Failed")
      expect(r.trials[0].reason).toMatch(/timeout of 50ms/)
      expect(aborted).toBe(true)
    }))

  effectIt.effect("stops starting trials after the study timeout", () =>
    Effect.gen(function*() {
      const r = yield* onTestClock(Study.optimize({ study: "timeout", objective: () => Effect.as(Effect.sleep("20 millis"), 1), timeout: "100 millis" }))
      // Trials start at 0, 20, 40, 60 and 80 ms; none at 100.
      expect(r.trials.length).toBe(5)
      expect(r.trials.every((t) => t.state === "Complete")).toBe(true)
    }))

  it("marks running trials Failed when the study is interrupted, and the signal reaches the objective", async () => {
    let aborted = false
    const storage = Storage.layerMemory
    const program = Effect.gen(function*() {
      const fiber = yield* Effect.fork(Study.optimize({
        study: "interrupted",
        objective: (_, trial) =>
          new Promise<number>(() => {
            trial.signal.addEventListener("abort", () => (aborted = true))
          }),
        trials: 3,
        concurrency: 2
      }))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      const s = yield* Storage.Storage
      const st = yield* s.getStudy("interrupted")
      return yield* s.getTrials(st.id)
    })
    const trials = await run(program, { storage })
    expect(trials.map((t) => [t.state, t.reason])).toEqual([["Failed", "interrupted while running"], ["Failed", "interrupted while running"]])
    expect(aborted).toBe(true)
  })

  it("lets Node's event loop turn while objectives await only promises, so that timers run during the study", async () => {
    // Before the run's own scheduler, such a study ran in microtasks from start to end: no timer
    // (heartbeat, tracker, progress line) fired until it was over.
    let ticks = 0
    let timer: NodeJS.Timeout | undefined
    const tick = () => {
      ticks++
      timer = setTimeout(tick, 0)
    }
    timer = setTimeout(tick, 0)
    let ticksSeen = 0
    const objective = async (c: { x: number }) => {
      ticksSeen = ticks
      return c.x
    }
    try {
      await run(Study.optimize({ study: "turns", space: Space.struct({ x: Space.float(0, 1) }), objective, trials: 5000 }))
    } finally {
      clearTimeout(timer)
    }
    // (Seen by the objectives themselves, not counted after the study.)
    expect(ticksSeen).toBeGreaterThan(1)
  })

  it("runs enqueued configs first, in order, then samples", async () => {
    const r = await run(Study.optimize({
      study: "enq",
      space,
      objective: (c) => c.x,
      enqueue: [
        { x: 0.5, n: 2, opt: { _tag: "adam", b: "b" } },
        { x: -1, n: 4, opt: { _tag: "sgd", m: 0.75 } }
      ],
      trials: 4
    }))
    const configs = r.trials.map((t) => Trial.paramValues(t))
    expect(configs[0]).toEqual({ x: 0.5, n: 2, opt: "adam", "opt.adam.b": "b" })
    expect(configs[1]).toEqual({ x: -1, n: 4, opt: "sgd", "opt.sgd.m": 0.75 })
    expect(r.trials.length).toBe(4)
  })

  // With a sampler that reads no history, each tell makes the worker's next trial in its write
  // (TellOptions.next): the budget, the enqueued configs and each number's params stay as they are.
  it("runs the budget exactly with concurrent runners whose tells make their next trials, enqueued configs first", async () => {
    const optimize = (concurrency: number) =>
      Effect.gen(function*() {
        const r = yield* Study.optimize({
          study: "handed",
          space,
          objective: (c) => c.x,
          concurrency,
          enqueue: [{ x: 0.5, n: 2, opt: { _tag: "adam", b: "b" } }, { x: -1, n: 4, opt: { _tag: "sgd", m: 0.75 } }],
          trials: 23
        })
        return yield* r.study.trials
      })
    const alone = await run(optimize(1))
    for (const storage of [Storage.layerMemory, Storage.layerSqlite(tmpdb())]) {
      const all = await run(optimize(3), { storage })
      expect(all.map((t) => t.state)).toEqual(Array(23).fill("Complete"))
      expect(all.slice(0, 2).map((t) => t.params.x)).toEqual([0.5, -1])
      expect(all.map((t) => [t.number, t.params])).toEqual(alone.map((t) => [t.number, t.params]))
    }
  })

  it("manual search runs exactly the enqueued configs and stops", async () => {
    const r = await run(
      Study.optimize({ study: "manual", space, objective: (c) => c.n, enqueue: [{ x: 0, n: 1, opt: { _tag: "adam", b: "a" } }] }),
      { sampler: Sampler.layerManual }
    )
    expect(r.trials.map((t) => t.values)).toEqual([[1]])
  })

  it("refuses an enqueued config outside the space, naming the parameter", async () => {
    const e = await run(Effect.flip(Study.optimize({
      study: "bad-enq",
      space,
      objective: (c) => c.x,
      enqueue: [{ x: 9, n: 1, opt: { _tag: "adam", b: "a" } }],
      trials: 1
    })))
    expect(e._tag).toBe("InvalidSpace")
    expect(e.message).toContain("x")
  })

  it("supports define-by-run and refuses a name reused with another distribution", async () => {
    const r = await run(Study.optimize({
      study: "dbr",
      objective: (_, t) => {
        const layers = t.suggestInt("layers", 1, 3)
        let s = 0
        for (let i = 0; i < layers; i++) s += t.suggestFloat(`w${i}`, 0, 1)
        if (t.number === 5) t.suggestCategorical("layers", ["a", "b"])
        return s + (t.suggestCategorical("act", ["relu", "tanh"]) === "relu" ? 0 : 1)
      },
      trials: 8
    }))
    expect(r.trials.filter((t) => t.state === "Complete").length).toBe(7)
    const bad = r.trials[5]
    expect(bad.state).toBe("Failed")
    expect(bad.reason).toMatch(/layers: already used in this study as int \[1, 3\]/)
    for (const t of r.trials.filter((t) => t.state === "Complete")) {
      const p = Trial.paramValues(t)
      expect(Object.keys(p).filter((k) => k.startsWith("w")).length).toBe(p.layers)
    }
  })

  it("keeps several objectives and gives the Pareto front", async () => {
    const r = await run(Study.optimize({
      study: "mo",
      space: Space.struct({ x: Space.float(0, 1) }),
      directions: ["minimize", "minimize"],
      objective: (c) => [c.x, (1 - c.x) ** 2],
      trials: 20
    }))
    // x trades one objective for the other: every trial is on the front
    expect(r.paretoFront.length).toBe(20)
  })

  test.prop([
    fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }), { maxLength: 60 }),
    fc.array(fc.constantFrom("minimize" as const, "maximize" as const), { minLength: 1, maxLength: 3 })
  ])("the Pareto front is the trials no other complete trial dominates (ties included)", (values, directions) => {
    const trials = values.map((v, i) => ({ ...Trial.make({ id: i, number: i, state: i % 7 === 3 ? "Failed" as const : "Complete" as const }), values: v.slice(0, directions.length) }))
    const done = trials.filter((t) => t.state === "Complete")
    const naive = done.filter((t) => !done.some((o) => o !== t && Study.dominates(o.values, t.values, directions)))
    expect(Study.paretoFrontOf(trials, directions).map((t) => t.number)).toEqual(naive.map((t) => t.number))
  })

  it("finds the front of 100,000 equal trials at once", () => {
    const trials = Array.from({ length: 100_000 }, (_, i) => ({ ...Trial.make({ id: i, number: i, state: "Complete" }), values: [1, 2] }))
    expect(Study.paretoFrontOf(trials, ["minimize", "maximize"])).toHaveLength(100_000)
  })

  it("reports bad options as typed errors", async () => {
    const bad = [
      Study.optimize({ study: "a", objective: () => 1, concurrency: 0 }),
      Study.optimize({ study: "a", objective: () => 1, trials: -1 }),
      Study.optimize({ study: "a", objective: () => 1, direction: "up" as any }),
      Study.optimize({ study: "a", objective: () => 1, directions: ["minimize"], metrics: ["a", "b"] })
    ]
    for (const e of bad) expect((await run(Effect.flip(e)))._tag).toBe("InvalidOptions")
    // a bad space is refused where it is written, before any study
    expect(() => Space.struct({ x: Space.float(2, 1) })).toThrow(/Space.float\(2, 1\): low \(2\) must be below high \(1\)/)
    const empty = await run(Effect.flip(Study.optimize({ study: "a", space: Space.struct({}), objective: () => 1 })))
    expect(empty._tag).toBe("InvalidSpace")
  })
})

describe("grid search", () => {
  const small = Space.struct({ a: Space.int(0, 2), b: Space.categorical(["x", "y"]), c: Space.branch({ p: Space.struct({ q: Space.float(0, 1, { step: 0.5 }) }), r: Space.struct({}) }) })
  // 3 * 2 * (3 + 1) = 24 configs

  it("covers every combination exactly once, then stops", async () => {
    const r = await run(Study.optimize({ study: "g", space: small, objective: (c) => c.a }), { sampler: Sampler.layerGrid() })
    const keys = r.trials.map((t) => JSON.stringify(Trial.paramValues(t)))
    expect(keys.length).toBe(24)
    expect(new Set(keys).size).toBe(24)
  })

  test.prop([fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1000 })], { numRuns: 15 })(
    "covers any small space exactly once with 4 concurrent runners on one SQLite file",
    async (na, nb, seed) => {
      const file = tmpdb()
      const sp = Space.struct({ a: Space.int(0, na - 1 + 1), b: Space.float(0, nb, { step: 1 }) })
      const runner = () =>
        run(Study.optimize({ study: "g", space: sp, objective: async (c) => { await new Promise((r) => setTimeout(r, 1)); return c.a + c.b } }), {
          sampler: Sampler.layerGrid(),
          storage: Storage.layerSqlite(file),
          seed
        })
      const results = await Promise.all([runner(), runner(), runner(), runner()])
      const all = results.flatMap((r) => r.trials).map((t) => JSON.stringify(Trial.paramValues(t)))
      expect(all.length).toBe((na + 1) * (nb + 1))
      expect(new Set(all).size).toBe(all.length)
      fs.rmSync(path.dirname(file), { recursive: true, force: true })
    }
  )

  it("says clearly, before any trial, that a continuous dimension has no grid", async () => {
    const e = await run(
      Effect.flip(Study.optimize({ study: "g2", space: Space.struct({ lr: Space.float(0, 1) }), objective: () => 1 })),
      { sampler: Sampler.layerGrid() }
    )
    expect(e._tag).toBe("SamplerUnsupported")
    expect(e.message).toContain('"lr"')
  })
})

describe("ask/tell", () => {
  it("drives a loop by hand", async () => {
    const program = Effect.gen(function*() {
      const study = yield* Study.open({ study: "at", space: Space.struct({ x: Space.float(0, 1) }), direction: "maximize" })
      for (let i = 0; i < 5; i++) {
        const t = Option.getOrThrow(yield* study.ask)
        const d = yield* study.report(t, { step: 0, values: { value: t.config.x } })
        expect(d._tag).toBe("Continue")
        yield* study.tell(t, t.config.x)
      }
      const t = Option.getOrThrow(yield* study.ask)
      yield* study.tell(t, { state: "Pruned", reason: "by hand" })
      return { trials: yield* study.trials, best: yield* study.best }
    })
    const { trials, best } = await run(program)
    expect(trials.map((t) => t.state)).toEqual(["Complete", "Complete", "Complete", "Complete", "Complete", "Pruned"])
    expect(Option.getOrThrow(best).values![0]).toBe(Math.max(...trials.slice(0, 5).map((t) => t.values![0])))
  })

  it("reopens a study from SQLite with its trials", async () => {
    const file = tmpdb()
    const first = await run(Study.optimize({ study: "re", space, objective: (c) => c.x, trials: 5 }), { storage: Storage.layerSqlite(file) })
    const second = await run(Study.optimize({ study: "re", space, objective: (c) => c.x, trials: 3 }), { storage: Storage.layerSqlite(file) })
    const all = await run(Effect.flatMap(Study.open({ study: "re", space }), (s) => s.trials), { storage: Storage.layerSqlite(file) })
    expect(all.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(all.slice(0, 5)).toEqual(first.trials)
    expect(second.trials.map((t) => t.number)).toEqual([5, 6, 7])
  })
})

describe("stale trials", () => {
  it("fails running trials whose heartbeat is too old", async () => {
    const program = Effect.gen(function*() {
      const s = yield* Storage.Storage
      const st = yield* s.createStudy("stale", { directions: ["minimize"] })
      yield* s.createTrial(st.id, { state: "Running", worker: "elsewhere:1" })
      const failed = yield* Storage.failStaleTrials(st.id, { graceMs: 1000, now: Date.now() + 60_000 })
      return { failed, trials: yield* s.getTrials(st.id) }
    })
    const { failed, trials } = await run(program)
    expect(failed.map((t) => t.number)).toEqual([0])
    expect(trials[0].state).toBe("Failed")
    expect(trials[0].reason).toMatch(/stopped sending heartbeats/)
  })
})
