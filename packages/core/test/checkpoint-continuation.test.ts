import { Effect, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import { Checkpoint, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "../src/index.js"

const space = Space.struct({ lr: Space.float(0.01, 1) })

// A scheduler that, at step 2 of each of the first `n` trials to get there (continuations aside:
// which trial a continuation's number goes to depends on how the runners interleave), ends it and
// continues it in a new trial restored from its own checkpoint at step 2, with lr halved: what PBT
// does, minus the choice.
const continuing = (n: number) =>
  Layer.effect(
    Scheduler.Scheduler,
    Effect.gen(function*() {
      const storage = yield* Storage.Storage
      let continued = 0
      return {
        name: "continuing",
        decide: (ctx) =>
          Effect.gen(function*() {
            if (ctx.metric.step !== 2 || continued >= n || Study.restorePointOf(ctx.trial)) return Scheduler.Continue
            continued++
            const next = yield* Effect.orDie(storage.createTrial(ctx.study.id, {
              state: "Waiting",
              params: { lr: ctx.trial.params.lr / 2 },
              distributions: ctx.trial.distributions,
              systemAttrs: { [Study.RESTORE_FROM]: { trial: ctx.trial.number, step: 2 } }
            }))
            return Scheduler.Decision.Prune({ reason: `continues as ${next.number}` })
          })
      } satisfies Scheduler.SchedulerService
    })
  )

const run = <A, E>(e: Effect.Effect<A, E, Study.Services | Checkpoint.Checkpoint>, scheduler: Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>) =>
  Effect.runPromise(e.pipe(
    Effect.provide(Layer.mergeAll(scheduler, Sampler.layerRandom, Tracker.layerNone).pipe(
      Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed: 3 }), Checkpoint.layerMemory))
    ))
  ))

describe("continuations (trials that restore another trial's checkpoint)", () => {
  it("run after the budget, take no budget, and hand the objective its restore point and saved state", async () => {
    const seen: Array<{ number: number; study?: string; resumeFrom?: number; restoreFrom?: unknown; restored?: unknown }> = []
    const program = Effect.gen(function*() {
      const checkpoints = yield* Checkpoint.Checkpoint
      return yield* Study.optimize({
        study: "cont",
        space,
        metric: "loss",
        trials: 3,
        concurrency: 2,
        objective: async (config, trial) => {
          const ckpt = Checkpoint.forTrial(checkpoints, trial)
          const start = await Effect.runPromise(ckpt.restore)
          seen.push({
            number: trial.number,
            study: trial.study,
            resumeFrom: trial.resumeFrom,
            restoreFrom: trial.restoreFrom,
            restored: Option.getOrUndefined(Option.map(start, (s) => s.data))
          })
          for (let step = (trial.resumeFrom ?? 0) + 1; step <= 4; step++) {
            await Effect.runPromise(ckpt.save(step, { from: trial.number, step }))
            await trial.report({ step, values: { loss: config.lr * step } })
          }
          return config.lr
        }
      })
    })
    const r = await run(program, continuing(2))
    // 3 trials from the budget, 2 continuations on top.
    expect(r.trials.map((t) => t.state).sort()).toEqual(["Complete", "Complete", "Complete", "Pruned", "Pruned"])
    const conts = seen.filter((s) => s.restoreFrom !== undefined)
    expect(conts).toHaveLength(2)
    for (const c of conts) {
      const from = c.restoreFrom as { trial: number; step: number }
      expect(from.step).toBe(2)
      expect(c.resumeFrom).toBe(2)
      expect(c.study).toBe("cont")
      expect(c.restored).toEqual({ from: from.trial, step: 2 })
    }
    for (const t of r.trials.filter((t) => Study.restorePointOf(t))) expect(t.intermediate.map((m) => m.step)).toEqual([3, 4])
  })

  it("askContinuation takes continuations only, never an enqueued config or a new trial", async () => {
    const program = Effect.gen(function*() {
      const study = yield* Study.open({ study: "ac", space })
      const storage = yield* Storage.Storage
      yield* study.enqueue({ lr: 0.5 })
      const none = yield* study.askContinuation
      const dist = Space.compile(space).params.get("lr")!
      const cont = yield* storage.createTrial(study.info.id, {
        state: "Waiting",
        params: { lr: 0.25 },
        distributions: { lr: dist },
        systemAttrs: { [Study.RESTORE_FROM]: { trial: 0, step: 7 } }
      })
      const got = yield* study.askContinuation
      const again = yield* study.askContinuation
      return { none, cont, got, again, trials: yield* study.trials }
    })
    const r = await run(program, Layer.succeed(Scheduler.Scheduler, Scheduler.none))
    expect(Option.isNone(r.none)).toBe(true)
    const got = Option.getOrThrow(r.got)
    expect(got.number).toBe(r.cont.number)
    expect(got.config).toEqual({ lr: 0.25 })
    expect(got.restoreFrom).toEqual({ trial: 0, step: 7 })
    expect(got.resumeFrom).toBe(7)
    expect(Option.isNone(r.again)).toBe(true)
    expect(r.trials.map((t) => t.state)).toEqual(["Waiting", "Running"])
  })

  it("a Promise objective paused by the scheduler stops, is stored Waiting, and resumes from its own checkpoint", async () => {
    // Pauses every trial once at step 2; resumes paused trials before new ones.
    const pausing = Layer.effect(
      Scheduler.Scheduler,
      Effect.gen(function*() {
        return {
          name: "pausing",
          decide: (ctx) => Effect.succeed(ctx.metric.step === 2 && ctx.trial.intermediate.length === 2 ? Scheduler.Decision.Pause() : Scheduler.Continue),
          resume: (ctx) =>
            Effect.map(ctx.history, (ts) => Option.fromNullable(ts.find((t) => t.state === "Waiting" && t.intermediate.length > 0)?.id))
        } satisfies Scheduler.SchedulerService
      })
    )
    const runs: Array<{ number: number; resumeFrom?: number; restored?: unknown; steps: Array<number> }> = []
    const program = Effect.gen(function*() {
      const checkpoints = yield* Checkpoint.Checkpoint
      return yield* Study.optimize({
        study: "pause",
        space,
        metric: "loss",
        trials: 2,
        objective: async (config, trial) => {
          const ckpt = Checkpoint.forTrial(checkpoints, trial)
          const start = await Effect.runPromise(ckpt.restore)
          const run = { number: trial.number, resumeFrom: trial.resumeFrom, restored: Option.getOrUndefined(Option.map(start, (s) => s.data)), steps: [] as Array<number> }
          runs.push(run)
          for (let step = (trial.resumeFrom ?? 0) + 1; step <= 3; step++) {
            await Effect.runPromise(ckpt.save(step, { step }))
            run.steps.push(step)
            await trial.report({ step, values: { loss: config.lr } })
          }
          return config.lr
        }
      })
    })
    const r = await run(program, pausing)
    // Trial 0 runs steps 1-2 and pauses; the second ask resumes it from step 2 (its checkpoint).
    expect(runs[0]).toEqual({ number: 0, resumeFrom: undefined, restored: undefined, steps: [1, 2] })
    expect(runs[1]).toEqual({ number: 0, resumeFrom: 2, restored: { step: 2 }, steps: [3] })
    // A resumption uses none of the budget of 2 configurations; each trial is listed once, as stored.
    expect(runs.map((x) => [x.number, x.resumeFrom])).toEqual([[0, undefined], [0, 2], [1, undefined], [1, 2]])
    expect(r.trials.map((t) => [t.number, t.state])).toEqual([[0, "Complete"], [1, "Complete"]])
  })
})
