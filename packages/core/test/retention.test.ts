import { Effect, FastCheck as fc, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Checkpoint, Retention, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker, Trial } from "../src/index.js"
import { makeFilesWith } from "../src/internal/checkpointFiles.js"
import { Contenders } from "../src/internal/retention.js"
import { CheckpointConformance } from "../src/testing/index.js"

const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-retention-"))
const runSync = <A, E>(e: Effect.Effect<A, E>) => Effect.runSync(e)
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const memoryStorage = () => runSync(Effect.provide(Storage.Storage, Storage.layerMemory))
const kept = (vs: ReadonlyArray<Retention.Verdict>) => vs.filter((v) => v.reasons.length > 0).map((v) => [v.trial, v.step])
const tags = (vs: ReadonlyArray<Retention.Verdict>, trial: number, step: number) =>
  vs.find((v) => v.trial === trial && v.step === step)?.reasons.map((r) => r._tag)
const entries = (...ts: ReadonlyArray<readonly [number, ReadonlyArray<number>]>) => ts.flatMap(([trial, steps]) => steps.map((step) => ({ trial, step, bytes: 1 })))
const metrics = (...steps: ReadonlyArray<number>) => steps.map((step) => ({ step, values: { value: step } }))

describe("Retention.plan", () => {
  it("keeps a running trial's last N and its latest checkpoint at or before its last reported step", () => {
    const t = Trial.make({ id: 1, number: 0, state: "Running", intermediate: metrics(1, 2, 3) })
    // Step 4 is saved, not reported yet; steps 5 and 6 were never reported (a trainer that saves more often).
    const vs = Retention.plan({ policy: { keepLast: 1, keepBest: 0 }, directions: ["minimize"], trials: [t], entries: entries([0, [1, 2, 3, 4]]) })
    expect(kept(vs)).toEqual([[0, 3], [0, 4]])
    expect(tags(vs, 0, 3)).toEqual(["Reported"])
    expect(tags(vs, 0, 4)).toEqual(["Last"])
  })

  it("keeps what a paused trial resumes from, and a continuation's restore point until it has loaded it", () => {
    const paused = Trial.make({ id: 1, number: 0, state: "Waiting", intermediate: metrics(1, 2) })
    const donor = Trial.make({ id: 2, number: 1, state: "Running", intermediate: metrics(1, 2, 3, 4, 5, 6) })
    const waiting = Trial.make({ id: 3, number: 2, state: "Waiting", systemAttrs: { [Study.RESTORE_FROM]: { trial: 1, step: 2 } } })
    const starting = Trial.make({ id: 4, number: 3, state: "Running", systemAttrs: { [Study.RESTORE_FROM]: { trial: 1, step: 3 } } })
    const started = Trial.make({ id: 5, number: 4, state: "Running", systemAttrs: { [Study.RESTORE_FROM]: { trial: 1, step: 4 } } })
    const vs = Retention.plan({
      policy: { keepLast: 1, keepBest: 0 },
      directions: ["minimize"],
      trials: [paused, donor, waiting, starting, started],
      entries: entries([0, [1, 2]], [1, [1, 2, 3, 4, 5, 6]], [4, [5]])
    })
    expect(kept(vs)).toEqual([[0, 2], [1, 2], [1, 3], [1, 6], [4, 5]])
    expect(tags(vs, 0, 2)).toEqual(["Paused"])
    expect(vs.find((v) => v.trial === 1 && v.step === 2)?.reasons).toEqual([{ _tag: "Restore", by: 2 }])
    expect(vs.find((v) => v.trial === 1 && v.step === 3)?.reasons).toEqual([{ _tag: "Restore", by: 3 }])
    expect(tags(vs, 1, 6)).toEqual(["Last", "Reported"])
  })

  it("keeps the final checkpoint of the best K complete trials, by direction, and nothing of pruned or failed ones", () => {
    const done = (number: number, value: number, state: Trial.State = "Complete") =>
      Trial.make({ id: number + 1, number, state, values: [value], intermediate: metrics(1, 2) })
    const trials = [done(0, 0.5), done(1, 0.1), done(2, 0.9), done(3, 0.05, "Pruned"), done(4, 0.01, "Failed")]
    const all = entries([0, [1, 2]], [1, [1, 2]], [2, [1, 2]], [3, [1, 2]], [4, [1, 2]])
    const min = Retention.plan({ policy: { keepBest: 2 }, directions: ["minimize"], trials, entries: all })
    expect(kept(min)).toEqual([[0, 2], [1, 2]])
    expect(min.find((v) => v.trial === 1 && v.step === 2)?.reasons).toEqual([{ _tag: "Best", rank: 1, keepBest: 2 }])
    const max = Retention.plan({ policy: { keepBest: 1 }, directions: ["maximize"], trials, entries: all })
    expect(kept(max)).toEqual([[2, 2]])
    // Several objectives: the non-dominated front first.
    const multi = [0, 1, 2].map((n) => Trial.make({ id: n + 1, number: n, state: "Complete", values: [[1, 1], [2, 2], [0, 3]][n] }))
    expect(kept(Retention.plan({ policy: { keepBest: 2 }, directions: ["minimize", "minimize"], trials: multi, entries: entries([0, [1]], [1, [1]], [2, [1]]) })))
      .toEqual([[0, 1], [2, 1]])
  })

  it("keeps checkpoints being loaded and those of trials storage does not know; a trial missing below nextNumber has ended", () => {
    const vs = Retention.plan({
      policy: { keepLast: 1, keepBest: 0 },
      directions: ["minimize"],
      trials: [],
      entries: [{ trial: 0, step: 1, bytes: 1, loading: true }, { trial: 1, step: 1, bytes: 1 }, { trial: 5, step: 1, bytes: 1 }],
      nextNumber: 3,
      loading: (trial) => trial === 1
    })
    expect(vs.map((v) => v.reasons.map((r) => r._tag))).toEqual([["Loading"], ["Loading"], ["Unknown"]])
    expect(Retention.plan({ policy: {}, directions: ["minimize"], trials: [], entries: entries([1, [1]]), nextNumber: 3 })[0].reasons).toEqual([])
  })

  it("says why in words, and refuses a policy that is not counts", () => {
    expect([
      { _tag: "Last", keepLast: 2 },
      { _tag: "Reported" },
      { _tag: "Paused" },
      { _tag: "Restore", by: 14 },
      { _tag: "Best", rank: 1, keepBest: 3 },
      { _tag: "Loading" },
      { _tag: "Unknown" }
    ].map((r) => Retention.describe(r as Retention.Reason))).toEqual([
      "last 2",
      "last reported",
      "paused trial resumes from it",
      "needed by trial 14",
      "best 3 (#1)",
      "being loaded",
      "trial not in storage"
    ])
    expect(() => Retention.make(Checkpoint.makeMemory(), { keepLast: -1 })).toThrow("retention keepLast: expected a positive integer, got -1")
    expect(() => Retention.make(Checkpoint.makeMemory(), { keepBest: 1.5 })).toThrow("keepBest")
  })
})

// The retention laws, on the real service over memory stores and memory storage, driven by random
// sequences of what a study does to its trials: start, save, report, prune, complete, pause,
// resume, PBT exploits (a continuation from a donor's checkpoint) and continuations starting.
type Op =
  | { readonly op: "start" }
  | { readonly op: "save" | "report" | "prune" | "complete" | "pause"; readonly i: number; readonly x: number; readonly y: number }
  | { readonly op: "resume" | "startContinuation"; readonly i: number }
  | { readonly op: "exploit"; readonly i: number; readonly j: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ op: "start" as const }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant("save" as const), i: fc.nat(20), x: fc.double({ min: 0, max: 1, noNaN: true }), y: fc.constant(0) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant("report" as const), i: fc.nat(20), x: fc.double({ min: 0, max: 1, noNaN: true }), y: fc.constant(0) }) },
  // A second objective of few values, so that complete trials tie and dominate one another.
  ...(["prune", "complete", "pause"] as const).map((op) => ({
    weight: 1,
    arbitrary: fc.record({ op: fc.constant(op), i: fc.nat(20), x: fc.double({ min: 0, max: 1, noNaN: true }), y: fc.nat(3) })
  })),
  ...(["resume", "startContinuation"] as const).map((op) => ({ weight: 1, arbitrary: fc.record({ op: fc.constant(op), i: fc.nat(20) }) })),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("exploit" as const), i: fc.nat(20), j: fc.nat(20) }) }
)

describe("retention laws (property)", () => {
  it("the store holds exactly what the policy keeps, and never loses what a living trial can restore from", () =>
    fc.assert(
      fc.property(
        fc.record({ keepLast: fc.integer({ min: 1, max: 3 }), keepBest: fc.nat(3) }),
        fc.constantFrom<ReadonlyArray<Trial.Direction>>(["minimize"], ["maximize"], ["minimize", "maximize"]),
        fc.array(opArb, { maxLength: 70 }),
        (policy, directions, ops) => {
          const storage = memoryStorage()
          const info = runSync(storage.createStudy("s", { directions }))
          const raw = Checkpoint.makeMemory()
          const store = Retention.make(raw, policy)
          const shadow = Checkpoint.makeMemory() // everything, as without retention
          const key = (trial: number) => ({ study: "s", trial })
          // Per trial: the last step saved and whether it is reported yet (save, then report).
          const saved = new Map<number, number>()
          const trials = () => runSync(storage.getTrials(info.id))
          const inState = (...states: ReadonlyArray<Trial.State>) => trials().filter((t) => states.includes(t.state))
          const pick = <T>(xs: ReadonlyArray<T>, i: number) => (xs.length === 0 ? undefined : xs[i % xs.length])
          const settle = () => runSync(store.settle!("s", storage))
          const latestReported = (c: Checkpoint.CheckpointService, t: Trial.FrozenTrial) => {
            const last = Trial.lastStep(t)
            return last === undefined ? undefined : runSync(c.steps(key(t.number))).filter((s) => s <= last).at(-1)
          }
          settle()
          for (const o of ops) {
            if (o.op === "start") {
              runSync(storage.createTrial(info.id, { state: "Running", worker: "w" }))
            } else if (o.op === "save") {
              const t = pick(inState("Running"), o.i)
              // A step is reported before the next is saved (the trainer's convention).
              if (t === undefined || (saved.get(t.number) ?? -1) > (Trial.lastStep(t) ?? -1)) continue
              const from = Study.restorePointOf(t)
              const step = (saved.get(t.number) ?? Trial.lastStep(t) ?? from?.step ?? 0) + 1
              runSync(store.save(key(t.number), step, { t: t.number, step }))
              runSync(shadow.save(key(t.number), step, { t: t.number, step }))
              saved.set(t.number, step)
            } else if (o.op === "report") {
              const t = pick(inState("Running").filter((t) => (saved.get(t.number) ?? -1) > (Trial.lastStep(t) ?? -1)), o.i)
              if (t !== undefined) runSync(storage.report(t.id, { step: saved.get(t.number)!, values: { value: o.x } }))
            } else if (o.op === "prune" || o.op === "complete") {
              const t = pick(inState("Running"), o.i)
              if (t === undefined) continue
              runSync(storage.finishTrial(t.id, o.op === "prune" ? { state: "Pruned", reason: "test" } : { state: "Complete", values: [o.x, o.y].slice(0, directions.length) }))
              settle()
            } else if (o.op === "pause") {
              const t = pick(inState("Running").filter((t) => Trial.lastStep(t) !== undefined && saved.get(t.number) === Trial.lastStep(t)), o.i)
              if (t === undefined) continue
              runSync(storage.pauseTrial(t.id))
              settle()
            } else if (o.op === "resume") {
              const t = pick(inState("Waiting").filter((t) => t.intermediate.length > 0), o.i)
              if (t === undefined) continue
              runSync(storage.claimWaiting(info.id, "w", t.id))
              // It restores its own last reported step: never deleted.
              expect(runSync(store.load(key(t.number), Trial.lastStep(t)))).toEqual({ t: t.number, step: Trial.lastStep(t) })
            } else if (o.op === "startContinuation") {
              const t = pick(inState("Waiting").filter((t) => t.intermediate.length === 0 && Study.restorePointOf(t) !== undefined), o.i)
              if (t === undefined) continue
              runSync(storage.claimWaiting(info.id, "w", t.id))
              const from = Study.restorePointOf(t)!
              expect(runSync(store.load(key(from.trial), from.step))).toEqual({ t: from.trial, step: from.step })
            } else if (o.op === "exploit") {
              // PBT: the exploiter takes the donor's latest checkpoint at or before its last report.
              const running = inState("Running")
              const exploiter = pick(running, o.i)
              const donor = pick(running.filter((t) => t !== exploiter), o.j)
              if (exploiter === undefined || donor === undefined) continue
              const step = latestReported(store, donor)
              // PBT sees the same restore point with retention as without.
              expect(step).toEqual(latestReported(shadow, donor))
              if (step === undefined) continue
              runSync(storage.createTrial(info.id, { state: "Waiting", systemAttrs: { [Study.RESTORE_FROM]: { trial: donor.number, step } } }))
              runSync(storage.finishTrial(exploiter.id, { state: "Pruned", reason: "exploited" }))
              settle()
            }
            const now = trials()
            const stored = runSync(raw.list!("s"))
            // Law 1: after a save, or a trial's end, pause or exploit (what sweeps), exactly what the
            // policy keeps, no more. (A report alone deletes nothing: the next save sweeps.)
            if (o.op !== "report" && o.op !== "resume" && o.op !== "startContinuation") {
              const plan = Retention.plan({ policy, directions, trials: now, entries: stored })
              expect(plan.filter((v) => v.reasons.length === 0)).toEqual([])
            }
            const running = now.filter((t) => t.state === "Running").length
            const waiting = now.filter((t) => t.state === "Waiting").length
            const startingContinuations = now.filter((t) => t.state === "Running" && Study.restorePointOf(t) !== undefined).length
            expect(stored.length).toBeLessThanOrEqual(running * (policy.keepLast + 1) + waiting + startingContinuations + policy.keepBest)
            // Law 2: what a living trial can restore from is there.
            const has = (trial: number, step: number) => stored.some((e) => e.trial === trial && e.step === step)
            for (const t of now) {
              const from = Study.restorePointOf(t)
              const last = Trial.lastStep(t)
              if (t.state === "Waiting" && last !== undefined) expect(has(t.number, last), `paused ${t.number}`).toBe(true)
              if (t.state === "Waiting" && last === undefined && from) expect(has(from.trial, from.step), `continuation ${t.number}`).toBe(true)
              if (t.state === "Running" && last !== undefined) expect(latestReported(raw, t)).toEqual(latestReported(shadow, t))
            }
          }
        }
      ),
      { numRuns: 150 }
    ))
})

describe("following a study instead of reading it whole (a sweep's cost does not grow with the study)", () => {
  it("Contenders: the best K of the complete trials taken in one at a time are the best K of them all (ties, fronts, any order)", () =>
    fc.assert(
      fc.property(
        fc.nat(4),
        fc.constantFrom<ReadonlyArray<Trial.Direction>>(["minimize"], ["maximize"], ["minimize", "maximize"], ["maximize", "minimize", "minimize"]),
        fc.array(fc.array(fc.nat(3), { minLength: 3, maxLength: 3 }), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (keepBest, directions, values, order) => {
          const trials = values.map((v, n) => Trial.make({ id: n + 1, number: n, state: "Complete", values: v.slice(0, directions.length) }))
          // Completed in any order (a worker finishes trial 7 before trial 3).
          const shuffled = [...trials]
          order.forEach((k, i) => {
            const j = k % shuffled.length
            if (i < shuffled.length) [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
          })
          const contenders = new Contenders(keepBest, directions)
          for (const t of shuffled) contenders.add(t)
          if (directions.length === 1) expect(contenders.trials.length).toBeLessThanOrEqual(keepBest)
          const all = entries(...trials.map((t) => [t.number, [1]] as const))
          const best = (ts: ReadonlyArray<Trial.FrozenTrial>) =>
            Retention.plan({ policy: { keepBest }, directions, trials: ts, entries: all, nextNumber: trials.length }).filter((v) => v.reasons.length > 0)
          expect(best(contenders.trials)).toEqual(best(trials))
        }
      ),
      { numRuns: 300 }
    ))

  it("after the first sweep, a settle reads only the trials that changed, and keeps what the whole study's plan keeps", async () => {
    const inner = memoryStorage()
    let read = 0
    const storage: Storage.StorageService = {
      ...inner,
      getTrials: (id, options) => Effect.tap(inner.getTrials(id, options), (ts) => void (read += ts.length)),
      changedTrials: (id, since) => Effect.tap(inner.changedTrials!(id, since), (c) => void (read += c.trials.length))
    }
    const info = await run(storage.createStudy("s", { directions: ["minimize"] }))
    const store = Retention.make(Checkpoint.makeMemory(), { keepLast: 1, keepBest: 2 })
    const finish = (value: number) =>
      Effect.gen(function*() {
        const t = yield* storage.createTrial(info.id, { state: "Running", worker: "w" })
        yield* store.save({ study: "s", trial: t.number }, 1, { value })
        yield* storage.report(t.id, { step: 1, values: { value } })
        yield* storage.finishTrial(t.id, { state: "Complete", values: [value] })
        yield* store.settle!("s", storage)
      })
    for (let i = 0; i < 300; i++) await run(finish(((i * 37) % 101) / 101))
    const history = await run(storage.getTrials(info.id))
    read = 0
    for (let i = 0; i < 20; i++) await run(finish(i === 10 ? -1 : 0.5 + i / 100))
    // Each of the 20 trials is read at its save and at its settle (at most twice a sweep): not the 300 before it.
    expect(read).toBeLessThanOrEqual(20 * 2)
    const all = [...history, ...(await run(inner.getTrials(info.id))).slice(history.length)]
    const stored = await run(store.list!("s"))
    expect(Retention.plan({ policy: { keepLast: 1, keepBest: 2 }, directions: ["minimize"], trials: all, entries: stored }).every((v) => v.reasons.length > 0)).toBe(true)
    // The best two: the -1 of the 11th new trial, and the best of the first 300 (value 0, trial 0).
    expect(stored.map((e) => e.trial)).toEqual([0, 310])
  })
})

describe("retention on the files store, with two workers sharing the folder", () => {
  CheckpointConformance.exploitRace("files", async () => {
    const dir = tmpdir()
    return { handles: [Checkpoint.makeFiles(dir), Checkpoint.makeFiles(dir)], close: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  })


  it("never deletes a checkpoint under a slow loader; deletes it once the load is done", async () => {
    const dir = tmpdir()
    const storage = memoryStorage()
    const info = await run(storage.createStudy("s", { directions: ["minimize"] }))
    const trial = await run(storage.createTrial(info.id, { state: "Running", worker: "a" }))
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) % 256)
    const k = { study: "s", trial: trial.number }
    // Worker A: a slow loader (it holds its lease until released).
    let release!: () => void
    let leased!: () => void
    const holding = new Promise<void>((r) => (release = r))
    const started = new Promise<void>((r) => (leased = r))
    const a = makeFilesWith(dir, { afterLease: () => (leased(), holding) })
    // Worker B: the same folder with retention, in the same study.
    const b = Retention.make(Checkpoint.makeFiles(dir), { keepLast: 1, keepBest: 0 })
    await run(b.settle!("s", storage))
    await run(b.save(k, 1, bytes))
    await run(storage.finishTrial(trial.id, { state: "Pruned", reason: "test" }))
    const loading = run(a.load(k, 1))
    await started
    // B sweeps while A loads: the lease keeps the checkpoint.
    await run(b.settle!("s", storage))
    expect((await run(b.list!("s"))).map((e) => [e.step, e.loading])).toEqual([[1, true]])
    // Even a plain delete under the loader (what a sweep that listed before the lease would do) leaves A its bytes.
    await run(b.remove(k))
    release()
    expect([...(await loading) as Uint8Array]).toEqual([...bytes])
    await run(b.settle!("s", storage))
    expect(await run(b.list!("s"))).toEqual([])
    expect(fs.existsSync(path.join(dir, "s", `trial-${trial.number}`))).toBe(false)
  })

  it("fails a load whose checkpoint was deleted before its lease with CheckpointNotFound, not with a partial read", async () => {
    const dir = tmpdir()
    const c = Checkpoint.makeFiles(dir)
    const k = { study: "s", trial: 0 }
    await run(c.save(k, 1, { a: 1 }))
    await run(c.remove(k))
    const e = await run(Effect.flip(c.load(k, 1)))
    expect(e._tag).toBe("CheckpointNotFound")
  })

  it("two workers saving and sweeping at once keep the policy's checkpoints and lose no save", async () => {
    const dir = tmpdir()
    const storage = memoryStorage()
    const info = await run(storage.createStudy("s", { directions: ["minimize"] }))
    const workers = [0, 1].map(() => Retention.make(Checkpoint.makeFiles(dir), { keepLast: 2, keepBest: 1 }))
    for (const w of workers) await run(w.settle!("s", storage))
    const trials = await run(Effect.forEach([0, 1, 2, 3], () => storage.createTrial(info.id, { state: "Running", worker: "w" })))
    await run(Effect.forEach(trials, (t, i) =>
      Effect.gen(function*() {
        const w = workers[i % 2]
        for (let step = 1; step <= 12; step++) {
          yield* w.save({ study: "s", trial: t.number }, step, { step })
          yield* storage.report(t.id, { step, values: { value: i + step / 100 } })
        }
        yield* storage.finishTrial(t.id, { state: "Complete", values: [i] })
        yield* w.settle!("s", storage)
      }), { concurrency: "unbounded" }))
    for (const w of workers) await run(w.settle!("s", storage))
    // The best trial's final checkpoint, and nothing else.
    expect((await run(workers[0].list!("s"))).map((e) => [e.trial, e.step])).toEqual([[trials[0].number, 12]])
  })
})

// A scheduler that pauses every trial at step 2 and resumes the paused ones while there are any:
// what ASHA promotion does to checkpoints, minus the choice.
const pauseAt2 = Layer.succeed(Scheduler.Scheduler, {
  name: "pause-at-2",
  decide: (ctx) => Effect.succeed(ctx.metric.step === 2 && ctx.trial.intermediate.length === 2 ? Scheduler.Decision.Pause() : Scheduler.Continue),
  resume: (ctx) => Effect.map(ctx.history, (ts) => Option.fromNullable(ts.find((t) => t.state === "Waiting" && t.intermediate.length > 0)?.id))
} satisfies Scheduler.SchedulerService)

describe("retention in a study's run", () => {
  it("keeps paused trials' checkpoints until they resume, stays bounded, and ends with the best K finals", async () => {
    const space = Space.struct({ x: Space.float(0, 1) })
    const dir = tmpdir()
    let most = 0
    const program = Effect.gen(function*() {
      const checkpoints = yield* Checkpoint.Checkpoint
      const result = yield* Study.optimize({
        study: "paused",
        space,
        trials: 6,
        concurrency: 3,
        objective: async (config, trial) => {
          const ckpt = Checkpoint.forTrial(checkpoints, trial)
          const start = await Effect.runPromise(ckpt.restore)
          let value = Option.isSome(start) ? (start.value.data as { value: number }).value : 1
          for (let step = (trial.resumeFrom ?? 0) + 1; step <= 5; step++) {
            value *= config.x
            await Effect.runPromise(ckpt.save(step, { value }))
            most = Math.max(most, (await Effect.runPromise(checkpoints.list!("paused"))).length)
            await trial.report({ step, values: { value } })
          }
          return value
        }
      })
      return { result, left: yield* checkpoints.list!("paused") }
    })
    const { left, result } = await run(program.pipe(
      Effect.provide(Layer.mergeAll(pauseAt2, Sampler.layerRandom, Tracker.layerNone).pipe(
        Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed: 2 }), Checkpoint.layer({ directory: dir, retention: { keepLast: 1, keepBest: 2 } })))
      ))
    ))
    expect(result.trials.map((t) => t.state)).toEqual(Array(6).fill("Complete"))
    // Every trial resumed from its own step-2 checkpoint: its curve is unbroken.
    for (const t of result.trials) expect(t.values![0]).toBeCloseTo((Trial.paramValues(t).x as number) ** 5, 12)
    const best = [...result.trials].sort((a, b) => a.values![0] - b.values![0]).slice(0, 2)
    expect(left.map((e) => [e.trial, e.step])).toEqual(best.map((t) => [t.number, 5]).sort((a, b) => a[0] - b[0]))
    // At most: 3 running trials x (1 + 1), the 6 paused ones' restore points, the best 2.
    expect(most).toBeLessThanOrEqual(3 * 2 + 6 + 2)
  })

  it("records the policy on the study, for `tunekit checkpoints`", async () => {
    const program = Effect.gen(function*() {
      const r = yield* Study.optimize({ study: "policy", space: Space.struct({ x: Space.float(0, 1) }), objective: (c) => c.x, trials: 1 })
      return r.study.info.name
    })
    const storage = memoryStorage()
    await run(program.pipe(
      Effect.provide(Layer.mergeAll(Layer.succeed(Storage.Storage, storage), Rng.layer({ seed: 1 }), Checkpoint.layerMemoryWith({ retention: { keepLast: 4 } })))
    ))
    expect(Retention.policyOf(await run(storage.getStudy("policy")))).toEqual({ keepLast: 4, keepBest: 3 })
  })
})
