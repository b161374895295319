import { InvalidScheduler, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Context, Effect, Layer, Option } from "effect"
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
      // A decision taken inside s.next may have unsubscribed this trainer.
      if (s.closed) return
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

  it("stopping ASHA with two workers on one SQLite file: every prune is borne out by the shared rungs, the best at a rung goes on, nothing is marked", async () => {
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
    const at = (t: Trial.FrozenTrial, r: number) => t.intermediate.find((m) => m.step === r)?.values.loss
    const ahead = (a: Trial.FrozenTrial, b: Trial.FrozenTrial, r: number) => at(a, r)! < at(b, r)! || (at(a, r) === at(b, r) && a.number < b.number)
    for (const t of pruned) {
      // "ranks p of k at rung r, outside the top max(1, floor(k/3))", from the values stored then: a
      // subset of those stored now, so at least p - 1 trials are still ahead of it, and k at most all
      const [, p, k, r, top] = /^asha: ranks (\d+) of (\d+) at rung (\d+), outside the top (\d+)$/.exec(t.reason ?? "")!.map(Number)
      expect(top).toBe(Math.max(1, Math.floor(k / 3)))
      expect(p).toBeGreaterThan(top)
      expect(t.intermediate[t.intermediate.length - 1].step).toBe(r)
      const reached = trials.filter((x) => at(x, r) !== undefined)
      expect(k).toBeLessThanOrEqual(reached.length)
      expect(reached.filter((x) => ahead(x, t, r)).length).toBeGreaterThanOrEqual(p - 1)
    }
    for (const r of levels(options)) {
      const reached = trials.filter((x) => at(x, r) !== undefined)
      const best = reached.reduce((a, b) => (ahead(b, a, r) ? b : a))
      expect(best.intermediate.some((m) => m.step > r)).toBe(true)
    }
    // its decisions only read: no trial carries a rung mark
    for (const t of trials) expect(t.systemAttrs[KEY]).toBeUndefined()
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
      [Asha.layer({ minResource: 1, maxResource: 9, reductionFactor: 1 }), "asha scheduler: reductionFactor: expected a number >= 2, got 1"],
      [Hyperband.layer({ minResource: 10, maxResource: 9 }), "hyperband scheduler: minResource: must not exceed maxResource (9), got 10"],
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

describe("the end of a study", () => {
  const ended = /^(asha|hyperband): paused at rung (\d+) \(step (\d+)\) and not promoted before the study ended$/
  /** The layer without its finish hook: the study as it ended before paused trials were finished. */
  const withoutFinish = (layer: Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>) =>
    Layer.map(layer, (ctx) => {
      const { finish: _, ...rest } = Context.get(ctx, Scheduler.Scheduler)
      return Context.make(Scheduler.Scheduler, rest)
    })
  const promotion = (limit: number) => Asha.layer({ minResource: 1, maxResource: 9, reductionFactor: 3, mode: "promotion", limit })
  const runStudy = (layer: Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>, storage: Layer.Layer<Storage.Storage, any>, opts: { configurations?: number; trials?: number; concurrency?: number }) =>
    Effect.runPromise(Effect.scoped(
      Study.optimize({ study: "s", space, metric: "loss", objective: trainer(new Map()), concurrency: opts.concurrency ?? 1, ...(opts.trials === undefined ? {} : { trials: opts.trials }) }).pipe(
        Effect.flatMap((r) => Effect.map(r.study.trials, (trials) => ({ trials, best: r.best }))),
        Effect.provide(services(layer, storage, 5, opts.configurations === undefined ? Sampler.layerRandom : Budget.layerConfigurations(opts.configurations).pipe(Layer.provide(Sampler.layerRandom))))
      )
    ))
  /** Every paused trial was finished as Pruned with its last step and value, and nothing else changed. */
  const expectFinished = (before: ReadonlyArray<Trial.FrozenTrial>, after: ReadonlyArray<Trial.FrozenTrial>) => {
    expect(before.filter((t) => t.state === "Waiting").length).toBeGreaterThan(0)
    expect(after.map((t) => t.number)).toEqual(before.map((t) => t.number))
    for (const [i, t] of after.entries()) {
      const b = before[i]
      expect(t.intermediate).toEqual(b.intermediate)
      if (b.state !== "Waiting") {
        expect([t.state, t.values, t.reason]).toEqual([b.state, b.values, b.reason])
        continue
      }
      const last = t.intermediate[t.intermediate.length - 1]
      expect(t.state).toBe("Pruned")
      expect(t.values).toEqual([last.values.loss])
      const m = ended.exec(t.reason ?? "")
      expect(m, t.reason).not.toBeNull()
      expect(Number(m![3])).toBe(last.step)
      expect([1, 3]).toContain(Number(m![2]))
    }
  }

  for (const [label, storage] of [["memory", () => Storage.layerMemory], ["SQLite", () => Storage.layerSqlite(tmpdb())]] as const) {
    it(`ASHA promotion run to its end on ${label} storage leaves no trial Waiting, and the best trial is unchanged`, async () => {
      const before = await runStudy(withoutFinish(promotion(20)), storage(), { configurations: 20 })
      const after = await runStudy(promotion(20), storage(), { configurations: 20 })
      expectFinished(before.trials, after.trials)
      expect(after.trials.filter((t) => t.state === "Waiting")).toEqual([])
      const bestOf = (r: typeof after) => Option.map(r.best, (t) => [t.number, t.values])
      expect(Option.isSome(after.best)).toBe(true)
      expect(bestOf(after)).toEqual(bestOf(before))
    })
  }

  it("when the optimize call's trial budget is spent: ASHA promotion and Hyperband end their paused trials", async () => {
    for (const layer of [promotion(1000), Hyperband.layer({ minResource: 1, maxResource: 9, reductionFactor: 3 })]) {
      // 12 configurations: Hyperband's second bracket (5 members) is cut short, so its rung never decides.
      const before = await runStudy(withoutFinish(layer), Storage.layerMemory, { trials: 12 })
      const after = await runStudy(layer, Storage.layerMemory, { trials: 12 })
      expectFinished(before.trials, after.trials)
      expect(after.trials.filter((t) => t.state === "Waiting")).toEqual([])
    }
  })

  it("with two optimize calls on one SQLite file, paused trials are finished only once no trial runs", async () => {
    const db = tmpdb()
    let live = 0
    const atFinish: Array<number> = []
    // Count the trainers alive across both calls, and what that count is when a finish hook ends trials.
    const counting = Layer.map(promotion(24), (ctx) => {
      const s = Context.get(ctx, Scheduler.Scheduler)
      return Context.make(Scheduler.Scheduler, { ...s, finish: (c) => Effect.zipRight(Effect.sync(() => atFinish.push(live)), s.finish!(c)) })
    })
    const inner = trainer(new Map())
    const objective = (c: { final: number; speed: number }, t: Study.TrialContext<any>) =>
      new Observable<Trial.Metric>((s) => {
        live++
        const sub = inner(c, t).subscribe(s)
        return () => {
          live--
          sub.unsubscribe()
        }
      })
    // The first call's trial budget runs out while the second still trains.
    const run = (seed: number, trials?: number) =>
      Effect.scoped(
        Study.optimize({ study: "s", space, metric: "loss", objective, concurrency: 2, ...(trials === undefined ? {} : { trials }) }).pipe(
          Effect.provide(services(counting, Storage.layerSqlite(db), seed, Budget.layerConfigurations(24).pipe(Layer.provide(Sampler.layerRandom))))
        )
      )
    await Effect.runPromise(Effect.all([run(1, 6), run(2)], { concurrency: 2 }))
    const trials = await readBack(db)
    expect(trials.length).toBe(24)
    expect(trials.filter((t) => t.state === "Waiting" || t.state === "Running")).toEqual([])
    expect(atFinish.length).toBeGreaterThan(0)
    expect(atFinish.every((n) => n === 0)).toBe(true)
    const finished = trials.filter((t) => ended.test(t.reason ?? ""))
    expect(finished.length).toBeGreaterThan(0)
    const lastOther = Math.max(...trials.filter((t) => !finished.includes(t)).map((t) => t.finishedAt!))
    for (const t of finished) expect(t.finishedAt!).toBeGreaterThanOrEqual(lastOther)
  })
})

describe("ASHA across processes", () => {
  const options = { minResource: 1, maxResource: 9, reductionFactor: 3 }
  // Two connections to one file stand for two processes, each with its own ASHA layer. Three trials
  // reach rung 1; the deciding one is the best, and the history it read shows no one past the rung.
  const decideIn = (mode: "stopping" | "promotion", tookPlaceElsewhere: boolean) =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const db = tmpdb()
      const other = Context.get(yield* Layer.build(Storage.layerSqlite(db)), Storage.Storage)
      const storage = Context.get(yield* Layer.build(Storage.layerSqlite(db)), Storage.Storage)
      const asha = Context.get(yield* Layer.build(Asha.layer({ ...options, mode }).pipe(Layer.provide(Layer.succeed(Storage.Storage, storage)))), Scheduler.Scheduler)
      const study = yield* storage.createStudy("s", { directions: ["minimize"], metrics: ["loss"] })
      const history: Array<Trial.FrozenTrial> = []
      for (const loss of [1, 2, 0.5]) {
        const created = yield* storage.createTrial(study.id, { state: "Running", worker: "here:1" })
        const metric = { step: 1, values: { loss } }
        yield* storage.report(created.id, metric)
        history.push({ ...created, intermediate: [metric] })
      }
      const trial = history[2]
      if (tookPlaceElsewhere) expect(yield* other.claim(study.id, "asha:0:rung0:0")).toBe(true)
      const decision = yield* asha.decide({ study, trial, metric: trial.intermediate[0], history: Effect.succeed(history), objectives: [{ metric: "loss", direction: "minimize" }] })
      const placeFree = yield* other.claim(study.id, "asha:0:rung0:0")
      const stored = yield* storage.getTrial(trial.id)
      return { decision, placeFree, mark: stored.systemAttrs[KEY] }
    })))

  it("promotion: a worker whose history is stale cannot take a place past a rung that another process took", async () => {
    const free = await decideIn("promotion", false)
    expect(free.decision).toEqual(Scheduler.Decision.Promote({ toStep: 3 }))
    expect(free.placeFree).toBe(false) // this worker took it
    expect(free.mark).toBe(1)
    const taken = await decideIn("promotion", true)
    expect(taken.decision).toEqual(Scheduler.Decision.Pause())
    expect(taken.mark).toBeUndefined()
  })

  it("stopping: decides from the values at the rung alone, claiming no place and storing no mark", async () => {
    for (const elsewhere of [false, true]) {
      const r = await decideIn("stopping", elsewhere)
      expect(r.decision).toEqual(Scheduler.Continue)
      expect(r.placeFree).toBe(!elsewhere)
      expect(r.mark).toBeUndefined()
    }
  })
})
