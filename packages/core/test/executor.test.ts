// The Executor service: trials in worker threads, through the same run loop and stream path.
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Checkpoint, Executor, Rng, Scheduler, Space, Storage, Study, Trainer } from "../src/index.js"

const space = Space.struct({ x: Space.float(0, 1) })
const fixture = new URL("./fixtures/trainers.ts", import.meta.url)
// One pool for the whole file: a worker that starts from TypeScript source takes about 2 s.
const pool = ManagedRuntime.make(Executor.layerThreads({ size: 2 }))
afterAll(() => pool.dispose())
const threads = Layer.effect(Executor.Executor, Effect.promise(() => pool.runPromise(Executor.Executor)))

const run = <A, E>(program: Effect.Effect<A, E, Storage.Storage | Executor.Executor | Trainer.Trainer | Checkpoint.Checkpoint>, trainer: string, extra: Layer.Layer<never> = Layer.empty) =>
  Effect.runPromise(Effect.scoped(program.pipe(
    Effect.provide(Trainer.layerModule(fixture, trainer)),
    Effect.provide(Layer.mergeAll(threads, Checkpoint.layerMemory, extra)),
    Effect.provide(Layer.merge(Storage.layerMemory, Rng.layer({ seed: 4 })))
  )))

// `later`: decided only after a wait, as on PostgreSQL storage (the decision comes after `next` returns).
const pruneFrom = (step: number, later = false) =>
  Layer.succeed(Scheduler.Scheduler, {
    name: `prune-from-${step}`,
    decide: (ctx) => {
      const d = ctx.metric.step >= step ? Scheduler.Decision.Prune({ reason: `step ${step}` }) : Scheduler.Continue
      return later ? Effect.as(Effect.sleep("2 millis"), d) : Effect.succeed(d)
    }
  })

describe("the threads executor", () => {
  // One folder for both runs: the pool's workers keep the environment they started with.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-counts-"))
  for (const later of [false, true]) {
  it(`stops a synchronous trainer inside its worker at the step where it is pruned (counted in the worker)${later ? ", also when the decision waits" : ""}`, async () => {
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f))
    process.env.TUNEKIT_TEST_COUNTS = dir
    try {
      const r = await run(Study.optimize({ study: "count", space, trials: 4, concurrency: 2 }).pipe(Effect.provide(pruneFrom(11, later))), "counting")
      expect(r.trials.map((t) => [t.state, t.intermediate.length])).toEqual(Array.from({ length: 4 }, () => ["Pruned", 11]))
      const counts = fs.readdirSync(dir).map((f) => Number(fs.readFileSync(path.join(dir, f), "utf8")))
      expect(counts).toEqual([11, 11, 11, 11])
    } finally {
      delete process.env.TUNEKIT_TEST_COUNTS
    }
  })
  }

  it("fails only the trial whose worker crashed, and the pool carries on", async () => {
    const r = await run(Study.optimize({ study: "crash", space, trials: 6, concurrency: 2 }), "crashing")
    const failed = r.trials.filter((t) => t.state === "Failed")
    expect(failed.length).toBeGreaterThan(0)
    for (const t of failed) {
      expect(t.params.x).toBeGreaterThan(0.5)
      expect(t.reason).toMatch(/the worker thread running trial \d+ crashed: boom/)
    }
    const complete = r.trials.filter((t) => t.state === "Complete")
    expect(complete.length).toBeGreaterThan(0)
    expect(complete.length + failed.length).toBe(6)
    for (const t of complete) expect(t.values).toEqual([t.params.x])
  })

  it("gives the same results for a seed, and the same as inline", async () => {
    const summary = (r: Study.Result<unknown>) => r.trials.map((t) => [t.number, t.params.x, t.values]).sort((a, b) => (a[0] as number) - (b[0] as number))
    const a = await run(Study.optimize({ study: "det", space, trials: 10, concurrency: 2 }), "trivial")
    const b = await run(Study.optimize({ study: "det", space, trials: 10, concurrency: 2 }), "trivial")
    const inline = await run(Study.optimize({ study: "det", space, trials: 10 }), "trivial", Executor.layerInline as Layer.Layer<never>)
    expect(summary(b)).toEqual(summary(a))
    expect(summary(inline)).toEqual(summary(a))
  })

  it("decides a Promise trainer's reports in the study's process", async () => {
    const r = await run(Study.optimize({ study: "promise", space, trials: 4, concurrency: 2 }).pipe(Effect.provide(pruneFrom(3))), "reporting")
    expect(r.trials.map((t) => [t.state, t.intermediate.length, t.reason])).toEqual(Array.from({ length: 4 }, () => ["Pruned", 3, "step 3"]))
  })

  it("saves and restores checkpoints through the study's Checkpoint service (a paused trial resumes in another worker)", async () => {
    const pauseAt2 = Layer.succeed(Scheduler.Scheduler, {
      name: "pause-at-2",
      decide: (ctx) => Effect.succeed(ctx.metric.step === 2 && ctx.trial.intermediate.length === 2 ? Scheduler.Decision.Pause() : Scheduler.Continue),
      resume: (ctx) => Effect.map(ctx.history, (ts) => Option.fromNullable(ts.find((t) => t.state === "Waiting" && t.intermediate.length > 0)?.id))
    } satisfies Scheduler.SchedulerService)
    const r = await run(Effect.gen(function*() {
      const result = yield* Study.optimize({ study: "ckpt", space, trials: 3, concurrency: 2 })
      const steps = yield* (yield* Checkpoint.Checkpoint).steps({ study: "ckpt", trial: 0 })
      return { result, steps }
    }).pipe(Effect.provide(pauseAt2)), "checkpointing")
    expect(r.steps).toEqual([1, 2, 3, 4, 5, 6])
    for (const t of r.result.trials) {
      expect(t.state).toBe("Complete")
      expect(t.intermediate.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6])
      // Restored from step 2: the curve goes on as one unbroken run would.
      const f = 0.5 + (t.params.x as number) / 2
      expect(t.values![0]).toBeCloseTo(f ** 6, 10)
    }
  })

  it("refuses, when the study starts, an objective it cannot load in a worker, and a trial that needs more than it has", async () => {
    const e = await Effect.runPromise(Effect.flip(Effect.scoped(Study.optimize({ study: "fn", space, objective: (c) => c.x, trials: 2 }).pipe(
      Effect.provide(threads),
      Effect.provide(Study.layerDefaults())
    ))))
    expect(e.message).toMatch(/the threads executor loads the trainer in each worker from its module/)
    const gpu = await run(Effect.flip(Study.optimize({ study: "gpu", space, trials: 2, resourcesPerTrial: { gpu: 1 } })), "trivial")
    expect(gpu.message).toMatch(/one trial needs \{"gpu":1\}, more than the threads executor has/)
  })

  it("runs no more trials at once than fit", async () => {
    const r = await run(Study.optimize({ study: "fit", space, trials: 6, concurrency: 4, resourcesPerTrial: { cpu: 2 } }), "trivial")
    // Two workers, two cpus, two cpus a trial: one trial at a time, so no two trials overlap.
    const spans = r.trials.map((t) => [t.startedAt!, t.finishedAt!]).sort((a, b) => a[0] - b[0])
    expect(spans.length).toBe(6)
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1])
  })
})
