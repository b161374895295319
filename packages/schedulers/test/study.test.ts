import { InvalidScheduler, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Observable } from "rxjs"
import { describe, expect, it } from "vitest"
import { Asha, Budget, Hyperband, Median, Pruner, Threshold } from "../src/index.js"
import { KEY, levels } from "../src/internal/rungs.js"

const tmpdb = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-schedulers-")), "study.db")

const space = Space.struct({ final: Space.float(0, 1), speed: Space.float(1, 10) })

/** A trainer that reports one step per macrotask, so that unsubscribing stops it between steps. */
const trainer = (produced: Map<number, number>) => (c: { final: number; speed: number }, trial: Study.TrialContext<any>) =>
  new Observable<Trial.Metric>((s) => {
    let step = (trial.resumeFrom ?? 0) + 1
    let timer: NodeJS.Immediate | undefined
    const tick = () => {
      if (step > 9) return s.complete()
      produced.set(trial.number, (produced.get(trial.number) ?? 0) + 1)
      // curves cross: fast learners start low, slow ones end lower
      s.next({ step, values: { loss: c.final + (2 - c.final) * Math.exp(-step / c.speed) } })
      step++
      timer = setImmediate(tick)
    }
    timer = setImmediate(tick)
    return () => clearImmediate(timer)
  })

const services = (scheduler: Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>, storage: Layer.Layer<Storage.Storage, any>, seed = 7, sampler = Sampler.layerRandom) =>
  Layer.mergeAll(scheduler, sampler, Tracker.layerNone, Rng.layer({ seed })).pipe(Layer.provideMerge(storage))

const readBack = (db: string) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const info = yield* storage.getStudy("s")
    return yield* storage.getTrials(info.id)
  }).pipe(Effect.provide(Storage.layerSqlite(db)))))

describe("schedulers in Study.optimize on SQLite", () => {
  it("median: pruned trials are stored as Pruned with their last step, value and reason, and their trainers stop", async () => {
    const db = tmpdb()
    const produced = new Map<number, number>()
    await Effect.runPromise(Effect.scoped(
      Study.optimize({ study: "s", space, metric: "loss", objective: trainer(produced), trials: 24, concurrency: 2 }).pipe(
        Effect.provide(services(Median.layer({ nStartupTrials: 4, nWarmupSteps: 2 }), Storage.layerSqlite(db)))
      )
    ))
    const trials = await readBack(db)
    expect(trials.length).toBe(24)
    const pruned = trials.filter((t) => t.state === "Pruned")
    expect(pruned.length).toBeGreaterThan(0)
    for (const t of pruned) {
      const last = t.intermediate[t.intermediate.length - 1]
      expect(last.step).toBeGreaterThanOrEqual(2)
      expect(last.step).toBeLessThan(10)
      expect(t.reason).toMatch(new RegExp(`^median: best loss [0-9.]+ by step ${last.step} is worse than the median`))
      expect(t.values).toEqual([last.values.loss])
      // the trainer made at most the step it was pruned at, plus one already scheduled
      expect(produced.get(t.number)!).toBeLessThanOrEqual(last.step + 1)
    }
    for (const t of trials.filter((t) => t.state === "Complete")) expect(t.intermediate.length).toBe(9)
  })

  it("ASHA with two workers on one SQLite file: the rungs are shared, and the cap holds", async () => {
    const db = tmpdb()
    const options = { minResource: 1, maxResource: 9, reductionFactor: 3 }
    const produced = new Map<number, number>()
    const run = (seed: number) =>
      Effect.scoped(
        Study.optimize({ study: "s", space, metric: "loss", objective: trainer(produced), trials: 15, concurrency: 2 }).pipe(
          Effect.provide(services(Asha.layer(options), Storage.layerSqlite(db), seed))
        )
      )
    await Effect.runPromise(Effect.all([run(1), run(2)], { concurrency: 2 }))
    const trials = await readBack(db)
    expect(trials.length).toBe(30)
    expect(new Set(trials.map((t) => t.worker)).size).toBeGreaterThanOrEqual(1)
    const pruned = trials.filter((t) => t.state === "Pruned")
    expect(pruned.length).toBeGreaterThan(0)
    for (const t of pruned) expect(t.reason).toMatch(/^asha: /)
    levels(options).forEach((r, k) => {
      const reached = trials.filter((t) => t.intermediate.some((m) => m.step >= r))
      const past = reached.filter((t) => t.intermediate.some((m) => m.step > r))
      expect(past.length).toBeLessThanOrEqual(Math.ceil(reached.length / 3))
      for (const t of past) expect(t.systemAttrs[KEY]).toBeGreaterThan(k)
    })
  })

  it("ASHA promotion and Hyperband resume paused trials from their last step, with two workers", async () => {
    const hb = { minResource: 1, maxResource: 9, reductionFactor: 3 }
    const hbTrials = Hyperband.plan(hb).configurations
    for (const [name, layer, n] of [
      ["asha", Asha.layer({ minResource: 1, maxResource: 9, reductionFactor: 3, mode: "promotion", limit: 12 }), 12],
      ["hyperband", Hyperband.layer({ ...hb, limit: hbTrials }), hbTrials]
    ] as const) {
      const db = tmpdb()
      const resumed: Array<number> = []
      const produced = new Map<number, number>()
      const inner = trainer(produced)
      await Effect.runPromise(Effect.scoped(
        Study.optimize({
          study: "s",
          space,
          metric: "loss",
          concurrency: 2,
          objective: (c, t) => {
            if (t.resumeFrom !== undefined) resumed.push(t.resumeFrom)
            return inner(c, t)
          }
        }).pipe(Effect.provide(services(layer, Storage.layerSqlite(db), 3, Budget.layerConfigurations(n).pipe(Layer.provide(Sampler.layerRandom)))))
      ))
      const trials = await readBack(db)
      expect(trials.length, name).toBe(n)
      expect(resumed.length, name).toBeGreaterThan(0)
      expect(resumed.every((s) => s === 1 || s === 3), name).toBe(true)
      for (const t of trials) expect(t.intermediate.map((m) => m.step)).toEqual(t.intermediate.map((_, i) => i + 1))
      expect(trials.filter((t) => t.state === "Complete").length, name).toBeGreaterThan(0)
      expect(trials.filter((t) => t.state === "Running").length, name).toBe(0)
      if (name === "hyperband") {
        expect(trials.filter((t) => t.state === "Waiting").length).toBe(0)
        expect(trials.reduce((a, t) => a + t.intermediate.length, 0)).toBe(Hyperband.plan(hb).steps)
      }
    }
  })

  it("refuses bad options when the study starts, before any trial", async () => {
    const bad: Array<[Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>, string]> = [
      [Asha.layer({ minResource: 1, maxResource: 9, reductionFactor: 1 }), "asha scheduler: reductionFactor must be a number >= 2, got 1"],
      [Hyperband.layer({ minResource: 10, maxResource: 9 }), "hyperband scheduler: minResource (10) must not exceed maxResource (9)"],
      [Pruner.layer(Threshold.make({})), "threshold scheduler: give lower, upper or both"]
    ]
    for (const [layer, message] of bad) {
      const db = tmpdb()
      const r = await Effect.runPromise(Effect.scoped(
        Effect.either(Study.optimize({ study: "s", space, objective: () => 1, trials: 3 })).pipe(Effect.provide(services(layer, Storage.layerSqlite(db))))
      ))
      expect(r._tag).toBe("Left")
      if (r._tag === "Left") {
        expect(r.left).toBeInstanceOf(InvalidScheduler)
        expect(r.left.message).toBe(message)
      }
      expect((await readBack(db)).length).toBe(0)
    }
  })
})

describe("ASHA across processes", () => {
  it("a worker whose history is stale cannot take a place past a rung that another process took", async () => {
    const db = tmpdb()
    const options = { minResource: 1, maxResource: 9, reductionFactor: 3 }
    // Two connections to one file stand for two processes, each with its own ASHA layer.
    const decideIn = (tookPlaceElsewhere: boolean) =>
      Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const other = Context.get(yield* Layer.build(Storage.layerSqlite(db)), Storage.Storage)
        const storage = yield* Storage.Storage
        const asha = Context.get(yield* Layer.build(Asha.layer(options).pipe(Layer.provide(Layer.succeed(Storage.Storage, storage)))), Scheduler.Scheduler)
        const study = yield* storage.createStudy(tookPlaceElsewhere ? "taken" : "free", { directions: ["minimize"], metrics: ["loss"] })
        const created = yield* storage.createTrial(study.id, { state: "Running", worker: "here:1" })
        const metric = { step: 1, values: { loss: 0.5 } }
        yield* storage.report(created.id, metric)
        const trial = { ...created, intermediate: [metric] }
        if (tookPlaceElsewhere) expect(yield* other.claim(study.id, "asha:0:rung0:0")).toBe(true)
        // The history this worker read shows no one else past the rung: by it, the trial may go on.
        const decision = yield* asha.decide({ study, trial, metric, history: Effect.succeed([trial]), objectives: [{ metric: "loss", direction: "minimize" }] })
        const placeFree = yield* other.claim(study.id, "asha:0:rung0:0")
        return { decision, placeFree }
      }).pipe(Effect.provide(Storage.layerSqlite(db)))))
    const free = await decideIn(false)
    expect(free.decision._tag).toBe("Continue")
    expect(free.placeFree).toBe(false) // this worker took it
    const taken = await decideIn(true)
    expect(taken.decision).toEqual({ _tag: "Prune", reason: "asha: the 1 places past rung 1 (top 1/3 of 1) are taken" })
  })
})
