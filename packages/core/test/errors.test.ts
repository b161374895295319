// Errors are typed, precise, and keep what a user needs; one way to compose (issue 9, sections 3 and 5).
import { Data, Effect, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { map, Observable, of } from "rxjs"
import { describe, expect, it } from "vitest"
import { Rng, Sampler, Scheduler, Space, Storage, StorageError, Study, Trainer, type Trial } from "../src/index.js"

const space = Space.struct({ x: Space.float(0, 1) })
const tmpdb = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-errors-")), "study.db")
const run = <A, E>(e: Effect.Effect<A, E, Storage.Storage>, storage: Layer.Layer<Storage.Storage, any> = Storage.layerMemory) =>
  Effect.runPromise(Effect.scoped(Effect.provide(e, Layer.merge(storage, Rng.layer({ seed: 1 })))))

class Oops extends Data.TaggedError("Oops")<{ readonly why: string }> {}

describe("a failing objective keeps its details", () => {
  const failWith = (objective: () => unknown) =>
    run(Effect.map(Study.optimize({ study: "f", space, objective: objective as () => number, trials: 1 }), (r) => r.trials[0]))

  it("a tagged error: its tag and fields", async () => {
    const t = await failWith(() => Effect.fail(new Oops({ why: "no data" })))
    expect(t.state).toBe("Failed")
    expect(t.reason).toBe(`the objective failed: Oops {"why":"no data"}`)
    expect(t.systemAttrs.failure).toMatchObject({ tag: "Oops", fields: { why: "no data" } })
    expect(typeof (t.systemAttrs.failure as { stack?: unknown }).stack).toBe("string")
  })

  it("a thrown string, and a thrown object as JSON", async () => {
    const s = await failWith(() => {
      throw "plain words"
    })
    expect(s.reason).toBe("the objective failed: plain words")
    expect(s.systemAttrs.failure).toEqual({ message: "plain words", thrown: "plain words" })
    const o = await failWith(() => {
      throw { code: 42, detail: ["a", "b"] }
    })
    expect(o.reason).toBe(`the objective failed: {"code":42,"detail":["a","b"]}`)
    expect(o.systemAttrs.failure).toMatchObject({ thrown: { code: 42, detail: ["a", "b"] } })
  })

  it("an Error: its message and stack", async () => {
    const t = await failWith(() => Promise.reject(new RangeError("out of range")))
    expect(t.reason).toBe("the objective failed: out of range")
    expect((t.systemAttrs.failure as { stack: string }).stack).toContain("RangeError: out of range")
  })
})

describe("failures of the parts are typed failures of the call", () => {
  it("a sampler that throws fails `ask` with SamplerFailed, naming the sampler and trial", async () => {
    const broken: Sampler.SamplerService = {
      name: "broken",
      usesHistory: false,
      sampleIndependent: () => {
        throw new Error("no idea")
      }
    }
    const e = await run(Effect.flip(Study.optimize({ study: "s", space, objective: (c) => c.x, trials: 2 }).pipe(Effect.provide(Layer.succeed(Sampler.Sampler, broken)))))
    expect(e._tag).toBe("SamplerFailed")
    expect(e.message).toBe("broken sampler failed on trial 0: no idea")
  })

  it("a storage failure while reporting a metric fails the call with StorageError, not the trial", async () => {
    const failing = Layer.effect(
      Storage.Storage,
      Effect.map(Storage.Storage, (s): Storage.StorageService => ({ ...s, report: () => Effect.fail(new StorageError({ operation: "report", reason: "disk full" })) }))
    ).pipe(Layer.provide(Storage.layerMemory))
    for (const objective of [
      () => of({ step: 1, values: { value: 1 } }),
      async (_: unknown, trial: Study.TrialContext<unknown>) => {
        // Even an objective that swallows the rejection does not hide it.
        await trial.report({ step: 1, values: { value: 1 } }).catch(() => undefined)
        return 1
      }
    ]) {
      const e = await run(Effect.flip(Study.optimize({ study: "s", space, objective, trials: 1 })), failing)
      expect(e._tag).toBe("StorageError")
      expect(e.message).toBe("storage report failed: disk full")
    }
  })
})

describe("metric streams", () => {
  it("a stream that lacks the objective's metric fails the trial at its first report, naming what it has", async () => {
    let produced = 0
    const objective = () =>
      new Observable<Trial.Metric>((s) => {
        for (let step = 1; step <= 100 && !s.closed; step++) {
          produced++
          s.next({ step, values: { loss: 1, accuracy: 0.5 } })
        }
        s.complete()
      })
    const t = await run(Effect.map(Study.optimize({ study: "m", space, metric: "val_accuracy", direction: "maximize", objective, trials: 1 }), (r) => r.trials[0]))
    expect(t.state).toBe("Failed")
    expect(t.reason).toBe("the objective failed: MissingMetric: the metric stream reports loss, accuracy but not the objective's val_accuracy")
    expect(produced).toBe(1)
  })

  it("a trial that reaches its maximum step completes, whatever the scheduler says (maxStep, or the Trainer's)", async () => {
    const pruneFrom3 = Layer.succeed(Scheduler.Scheduler, {
      name: "prune-from-3",
      decide: (ctx) => Effect.succeed(ctx.metric.step >= 3 ? Scheduler.Decision.Prune({ reason: "late" }) : Scheduler.Continue)
    })
    const curve = () => of(1, 2, 3).pipe(map((step): Trial.Metric => ({ step, values: { value: 1 / step } })))
    const states = (e: Effect.Effect<Study.Result<any>, any, Storage.Storage>) => run(Effect.map(e, (r) => r.trials.map((t) => t.state)))
    expect(await states(Study.optimize({ study: "a", space, objective: curve, trials: 2 }).pipe(Effect.provide(pruneFrom3)))).toEqual(["Pruned", "Pruned"])
    expect(await states(Study.optimize({ study: "b", space, objective: curve, trials: 2, maxStep: 3 }).pipe(Effect.provide(pruneFrom3)))).toEqual(["Complete", "Complete"])
    const trainer = Trainer.layer(curve, { maxStep: 3 })
    expect(await states(Study.optimize({ study: "c", space, trials: 2 }).pipe(Effect.provide(pruneFrom3), Effect.provide(trainer)))).toEqual(["Complete", "Complete"])
  })
})

describe("define-by-run", () => {
  it("a study reopened with a changed distribution fails the trial at once, with the reason, and leaves nothing Running", async () => {
    const db = tmpdb()
    const study = (high: number) =>
      Study.optimize({ study: "dbr", objective: (_: unknown, trial: Study.TrialContext<unknown>) => trial.suggestFloat("x", 0, high), trials: 2 })
    await run(study(1), Storage.layerSqlite(db))
    const r = await run(Effect.flatMap(study(2), (r) => r.study.trials), Storage.layerSqlite(db))
    expect(r.filter((t) => t.state === "Running")).toEqual([])
    const failed = r.filter((t) => t.state === "Failed")
    expect(failed.length).toBe(2)
    expect(failed[0].reason).toMatch(/InvalidSpace: x: already used in this study as float \[0, 1\], now asked as float \[0, 2\]/)
  })
})

describe("killed workers", () => {
  it("a trial whose worker stopped is failed with the duration it ran, up to its last heartbeat", async () => {
    const t = await run(Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const info = yield* storage.createStudy("k", { directions: ["minimize"] })
      const trial = yield* storage.createTrial(info.id, { state: "Running", worker: "elsewhere:1" })
      yield* storage.heartbeat([trial.id])
      const beat = (yield* storage.heartbeats(info.id)).get(trial.id)!
      yield* Storage.failStaleTrials(info.id, { now: beat + 10 * 60_000 })
      return { beat, stored: yield* storage.getTrial(trial.id) }
    }))
    expect(t.stored.state).toBe("Failed")
    expect(t.stored.finishedAt).toBe(t.beat)
  })
})

describe("one way to compose", () => {
  const grid = Sampler.layerGrid()
  const gridSpace = Space.struct({ k: Space.int(0, 3) })
  const pruneOdd = Layer.succeed(Scheduler.Scheduler, {
    name: "prune-odd",
    decide: (ctx) => Effect.succeed(ctx.trial.params.k % 2 === 1 ? Scheduler.Decision.Prune({ reason: "odd" }) : Scheduler.Continue)
  })
  const program = Study.optimize({ study: "order", space: gridSpace, objective: (c) => of({ step: 1, values: { value: c.k } }), trials: 4 })
  const summary = (r: Study.Result<{ k: number }>) => r.trials.map((t) => [t.params.k, t.state])

  it("the order of provides does not change which sampler or scheduler runs", async () => {
    const defaults = Study.layerDefaults({ seed: 5 })
    const before = await Effect.runPromise(program.pipe(Effect.provide(grid), Effect.provide(pruneOdd), Effect.provide(defaults)))
    const after = await Effect.runPromise(program.pipe(Effect.provide(defaults), Effect.provide(grid), Effect.provide(pruneOdd)))
    const mixed = await Effect.runPromise(program.pipe(Effect.provide(pruneOdd), Effect.provide(defaults), Effect.provide(grid)))
    expect(summary(before).map(([k]) => k).sort()).toEqual([0, 1, 2, 3])
    expect(summary(before).filter(([, s]) => s === "Pruned").map(([k]) => k).sort()).toEqual([1, 3])
    expect(summary(after)).toEqual(summary(before))
    expect(summary(mixed)).toEqual(summary(before))
  })

  it("runs the provided Trainer when there is no objective, and says what is missing when there is neither", async () => {
    const trainer = Trainer.layer((c: { k: number }) => c.k * 2)
    const r = await run(Study.optimize({ study: "t", space: gridSpace, trials: 3 }).pipe(Effect.provide(trainer)))
    expect(r.trials.map((t) => t.values![0] / 2)).toEqual(r.trials.map((t) => t.params.k))
    const e = await run(Effect.flip(Study.optimize({ study: "t2", space: gridSpace, trials: 3 })))
    expect(e._tag).toBe("InvalidOptions")
    expect(e.message).toMatch(/give an objective, or provide a Trainer layer/)
    expect(Option.isSome(r.best)).toBe(true)
  })
})
