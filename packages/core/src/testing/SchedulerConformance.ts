/**
 * The scheduler conformance suite: what every Scheduler must do, through its service interface
 * (`check`, `decide`, `resume`, `finish`) on real storage. Declare it from a test file with a name
 * and a function that makes a fresh scheduler layer (called once per history, as a new process
 * would).
 *
 * For each seed the suite builds a history in storage, as workers would leave it: eight complete
 * trials (steps 1 to 12), a pruned one, a failed one, six running ones that stopped at steps 1,
 * 3, 9, 4, 6 and 12, and an enqueued one; each trial's params come from a two-parameter space and
 * its checkpoint is saved at every reported step (the Checkpoint convention). The curves are
 * seeded and cross; some running trials are far worse than the rest. The suite then acts as the
 * run loop: it asks `decide` at the last report of each running trial, in order of number, applies
 * the decision (Prune: stored as Pruned with its last value; Pause: paused), and asks `resume` once.
 * A second history, nine trials paused at step 1 and an enqueued one, is asked `resume` alone (a
 * promotion has room there). The laws:
 *
 * - **Deterministic for a history.** The same history built again in a fresh storage, with the
 *   same seed, gives the same decisions, the same `resume` answer and the same stored trials (on
 *   both histories).
 * - **Order-independent** (unless `orderIndependent: false` says the algorithm is not): when the
 *   history handed to `decide` and `resume` lists the trials in another order at every read,
 *   everything above is unchanged.
 * - **No decision on a trial that has ended.** `decide` on a trial that storage holds as Complete,
 *   Pruned or Failed (the trial as stored, at its last report) returns Continue and changes
 *   nothing in storage: the study's trials and attributes read the same before and after.
 * - **Resume names a paused trial.** `resume` answers none, or a trial storage holds as Waiting
 *   after it reported (paused): never a running, ended or enqueued one.
 * - **Paused trials end with the study.** A scheduler that paused a trial has `finish`; once no
 *   trial runs, `finish` leaves no trial paused and changes no trial that had ended.
 * - **It acts.** Over the histories, at least one decision is not Continue: a run that only sees
 *   Continue proves nothing, so choose options under which the scheduler acts on these histories
 *   (`SchedulerConformance.steps` are the steps the trials report).
 *
 * The layer may need Storage, Rng (seeded with the history's seed) and Checkpoint (memory): the
 * suite provides all three.
 *
 * @example
 * import { SchedulerConformance } from "@tunekit/core/testing"
 * import { Asha, Median } from "@tunekit/schedulers"
 * SchedulerConformance.suite("median", () => Median.layer({ nStartupTrials: 4 }))
 * SchedulerConformance.suite("asha", () => Asha.layer({ minResource: 1, maxResource: 12, reductionFactor: 3 }), { sqlite: true })
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as Checkpoint from "../Checkpoint.js"
import * as Distribution from "../Distribution.js"
import * as Rng from "../Rng.js"
import * as Scheduler from "../Scheduler.js"
import * as Space from "../Space.js"
import * as Storage from "../Storage.js"
import type { Direction, FrozenTrial, Metric } from "../Trial.js"
import { isFinished } from "../Trial.js"

/** Options of the suite. */
export interface Options {
  /** Whether the algorithm's decisions are a function of the history as a set of trials. Default true. */
  readonly orderIndependent?: boolean
  /** Also run every law on SQLite, in a temporary directory. Default false (memory only). */
  readonly sqlite?: boolean
  /** The study's direction. Default "minimize". */
  readonly direction?: Direction
  /** The seeds of the histories. Default [1, 2, 3]. */
  readonly seeds?: ReadonlyArray<number>
  /** Per-test timeout in milliseconds. Default 60000. */
  readonly timeout?: number
}

/** The layers the suite accepts: a scheduler that may need storage, a seeded Rng and checkpoints. */
export type SchedulerLayer = Layer.Layer<Scheduler.Scheduler, never, Storage.Storage | Rng.Rng | Checkpoint.Checkpoint>

/** The steps the trials of the suite's histories report: 1 to 12. */
export const steps = { first: 1, last: 12 } as const

/** The space the trials' params come from. */
export const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), units: Space.int(8, 64) })

const STUDY = "conformance"
const METRIC = "loss"
/** The last step of each running trial, in order of number. */
const RUNNING = [1, 3, 9, 4, 6, 12] as const

type Kind = "memory" | "sqlite"
/** The main history, or one of nine trials paused at step 1 (and an enqueued one), for `resume`. */
type Layout = "mixed" | "paused"

interface World {
  readonly storage: Storage.StorageService
  readonly scheduler: Scheduler.SchedulerService
  readonly study: Storage.StudyInfo
}

/** A decision as compared between runs: which trial, at which step, what. */
interface Decided {
  readonly trial: number
  readonly step: number
  readonly decision: Scheduler.Decision
}

/** What a run leaves, without what differs between two storages (ids, times). */
interface Outcome {
  readonly decisions: ReadonlyArray<Decided>
  readonly resumed: number | null
  readonly trials: ReadonlyArray<unknown>
}

const comparable = (ts: ReadonlyArray<FrozenTrial>) =>
  ts.map((t) => ({
    number: t.number,
    state: t.state,
    params: t.params,
    values: t.values,
    intermediate: t.intermediate,
    userAttrs: t.userAttrs,
    systemAttrs: t.systemAttrs,
    reason: t.reason
  }))

/** A seeded learning curve: curves cross, start high and level off at their own final value. */
const curve = (seed: number, number: number, direction: Direction) => {
  const g = Rng.generator(seed, "conformance-curve", number)
  const final = 0.05 + 0.9 * g.next()
  const speed = 1 + 5 * g.next()
  return (step: number) => {
    const noise = (Rng.generator(seed, "conformance-noise", number, step).next() - 0.5) * 0.02
    const loss = final + (1 - final) * Math.exp(-step / speed) + noise
    return direction === "minimize" ? loss : 1 - loss
  }
}


/**
 * Declares the suite for one scheduler.
 */
export const suite = (name: string, make: () => SchedulerLayer, options: Options = {}): void => {
  const direction = options.direction ?? "minimize"
  const seeds = options.seeds ?? [1, 2, 3]
  const timeout = options.timeout ?? 60_000
  const kinds: ReadonlyArray<Kind> = options.sqlite ? ["memory", "sqlite"] : ["memory"]
  const compiled = Space.compile(space)
  const objectives = [{ metric: METRIC, direction }] as const

  /** Runs `f` on a fresh storage holding the history of `seed`, with a fresh scheduler. */
  const withWorld = <A>(kind: Kind, seed: number, f: (w: World) => Effect.Effect<A, unknown>, layout: Layout = "mixed") => {
    const dir = kind === "sqlite" ? fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-scheduler-conformance-")) : undefined
    const storage = dir === undefined ? Storage.layerMemory : Storage.layerSqlite(path.join(dir, "study.db"))
    const base = Layer.mergeAll(storage, Rng.layer({ seed }), Checkpoint.layerMemory)
    // The scope closes the database before the promise settles; then its directory goes.
    return Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const ctx = yield* Layer.build(make().pipe(Layer.provideMerge(base)))
      const world = yield* build(Context.get(ctx, Storage.Storage), Context.get(ctx, Checkpoint.Checkpoint), Context.get(ctx, Scheduler.Scheduler), seed, layout)
      return yield* f(world)
    }))).finally(() => dir !== undefined && fs.rmSync(dir, { recursive: true, force: true }))
  }

  const build = (
    storage: Storage.StorageService,
    checkpoints: Checkpoint.CheckpointService,
    scheduler: Scheduler.SchedulerService,
    seed: number,
    layout: Layout
  ) =>
    Effect.gen(function*() {
      const study = yield* storage.createStudy(STUDY, { directions: [direction], metrics: [METRIC] })
      const g = Rng.generator(seed, "conformance-params")
      const create = (state: "Running" | "Waiting") => {
        const distributions: Record<string, Distribution.Distribution> = {}
        const { params } = compiled.build((n, d) => {
          distributions[n] = d
          return Distribution.fromUnit(d, g.next())
        })
        return storage.createTrial(study.id, { state, params, distributions, worker: "conformance:1" })
      }
      const train = (t: FrozenTrial, last: number) =>
        Effect.gen(function*() {
          const value = curve(seed, t.number, direction)
          for (let step = steps.first; step <= last; step++) {
            yield* checkpoints.save({ study: STUDY, trial: t.number }, step, { step })
            yield* storage.report(t.id, { step, values: { [METRIC]: value(step) } })
          }
          return value(last)
        })
      if (layout === "paused") {
        for (let i = 0; i < 9; i++) {
          const t = yield* create("Running")
          yield* train(t, steps.first)
          yield* storage.pauseTrial(t.id)
        }
      }
      for (let i = 0; i < (layout === "mixed" ? 8 : 0); i++) {
        const t = yield* create("Running")
        const v = yield* train(t, steps.last)
        yield* storage.finishTrial(t.id, { state: "Complete", values: [v] })
      }
      if (layout === "mixed") {
        const pruned = yield* create("Running")
        const pv = yield* train(pruned, 3)
        yield* storage.finishTrial(pruned.id, { state: "Pruned", reason: "conformance: pruned before", values: [pv] })
        const failed = yield* create("Running")
        yield* train(failed, 2)
        yield* storage.finishTrial(failed.id, { state: "Failed", reason: "conformance: the objective threw" })
        for (const last of RUNNING) yield* train(yield* create("Running"), last)
      }
      yield* create("Waiting")
      yield* scheduler.check?.(compiled, study) ?? Effect.void
      return { storage, scheduler, study }
    })

  /** The history as `decide` and `resume` read it: in storage's order, or shuffled anew at each read. */
  const historyOf = (w: World, seed: number, shuffled: boolean) => {
    let reads = 0
    const read = w.storage.getTrials(w.study.id)
    return shuffled ? Effect.map(read, (ts) => Rng.generator(seed, "conformance-order", reads++).shuffle(ts)) : read
  }

  const decideOn = (w: World, t: FrozenTrial, history: Scheduler.DecideContext["history"]) => {
    const metric: Metric = t.intermediate[t.intermediate.length - 1]
    return w.scheduler.decide({ study: w.study, trial: t, metric, history, objectives })
  }

  /** Acts as the run loop on the running trials, then asks `resume` once. */
  const run = (w: World, seed: number, shuffled: boolean) =>
    Effect.gen(function*() {
      const history = historyOf(w, seed, shuffled)
      const decisions: Array<Decided> = []
      const running = yield* w.storage.getTrials(w.study.id, { states: ["Running"] })
      for (const r of running) {
        const t = yield* w.storage.getTrial(r.id)
        const metric = t.intermediate[t.intermediate.length - 1]
        const decision = yield* decideOn(w, t, history)
        decisions.push({ trial: t.number, step: metric.step, decision })
        if (decision._tag === "Prune") yield* w.storage.finishTrial(t.id, { state: "Pruned", reason: decision.reason, values: [metric.values[METRIC]] })
        if (decision._tag === "Pause") yield* w.storage.pauseTrial(t.id)
      }
      const all = yield* w.storage.getTrials(w.study.id)
      const numberOf = (id: number) => all.find((t) => t.id === id)?.number ?? -1
      const resumed = w.scheduler.resume ? Option.getOrNull(Option.map(yield* w.scheduler.resume({ study: w.study, history }), numberOf)) : null
      return { decisions, resumed, trials: comparable(yield* w.storage.getTrials(w.study.id)) } satisfies Outcome
    })

  const snapshot = (w: World) =>
    Effect.map(Effect.all([w.storage.getTrials(w.study.id), w.storage.getStudy(STUDY)]), ([ts, s]) => ({
      trials: comparable(ts),
      states: ts.map((t) => [t.number, t.state, t.startedAt, t.finishedAt]),
      study: [s.userAttrs, s.systemAttrs]
    }))

  describe(`Scheduler conformance: ${name}`, () => {
    for (const kind of kinds) {
      it(`is deterministic for a history (${kind})`, async () => {
        let acted = 0
        for (const seed of seeds) {
          const a = await withWorld(kind, seed, (w) => run(w, seed, false))
          const b = await withWorld(kind, seed, (w) => run(w, seed, false))
          expect(b).toEqual(a)
          const pa = await withWorld(kind, seed, (w) => run(w, seed, false), "paused")
          expect(await withWorld(kind, seed, (w) => run(w, seed, false), "paused")).toEqual(pa)
          expect(a.decisions.length).toBe(RUNNING.length)
          acted += a.decisions.filter((d) => d.decision._tag !== "Continue").length
        }
        // A run that only sees Continue proves nothing: the options must make the scheduler act here.
        expect(acted, `${name} took no decision other than Continue on the suite's histories`).toBeGreaterThan(0)
      }, timeout)

      if (options.orderIndependent ?? true) {
        it(`decides the same whatever the order of the history (${kind})`, async () => {
          for (const seed of seeds) {
            const a = await withWorld(kind, seed, (w) => run(w, seed, false))
            const b = await withWorld(kind, seed, (w) => run(w, seed, true))
            expect(b).toEqual(a)
            const pa = await withWorld(kind, seed, (w) => run(w, seed, false), "paused")
            expect(await withWorld(kind, seed, (w) => run(w, seed, true), "paused")).toEqual(pa)
          }
        }, timeout)
      }

      it(`takes no decision on a trial that has ended (${kind})`, async () => {
        for (const seed of seeds) {
          await withWorld(kind, seed, (w) =>
            Effect.gen(function*() {
              const ended = (yield* w.storage.getTrials(w.study.id)).filter((t) => isFinished(t.state) && t.intermediate.length > 0)
              expect(new Set(ended.map((t) => t.state))).toEqual(new Set(["Complete", "Pruned", "Failed"]))
              for (const t of ended) {
                const before = yield* snapshot(w)
                const decision = yield* decideOn(w, t, w.storage.getTrials(w.study.id))
                expect(decision, `trial ${t.number} (${t.state})`).toEqual(Scheduler.Continue)
                expect(yield* snapshot(w)).toEqual(before)
              }
            }))
        }
      }, timeout)

      it(`resumes only a paused trial, and ends the paused ones when the study ends (${kind})`, async () => {
        for (const seed of seeds) {
          await withWorld(kind, seed, (w) =>
            Effect.gen(function*() {
              if (w.scheduler.resume === undefined) return
              const all = yield* w.storage.getTrials(w.study.id)
              const id = yield* w.scheduler.resume({ study: w.study, history: w.storage.getTrials(w.study.id) })
              if (Option.isNone(id)) return
              const t = all.find((x) => x.id === id.value)
              expect([t?.state, (t?.intermediate.length ?? 0) > 0], `resumed trial ${t?.number}`).toEqual(["Waiting", true])
            }), "paused")
          await withWorld(kind, seed, (w) =>
            Effect.gen(function*() {
              const out = yield* run(w, seed, false)
              const all = yield* w.storage.getTrials(w.study.id)
              if (out.resumed !== null) {
                const t = all.find((x) => x.number === out.resumed)!
                expect([t.state, t.intermediate.length > 0], `resumed trial ${t.number}`).toEqual(["Waiting", true])
              }
              const paused = out.decisions.some((d) => d.decision._tag === "Pause")
              if (!paused) return
              expect(w.scheduler.finish, `${name} pauses trials but has no finish`).toBeDefined()
              // the run loop ends: the running trials complete, then the last worker asks finish
              for (const t of all.filter((x) => x.state === "Running")) {
                yield* w.storage.finishTrial(t.id, { state: "Complete", values: [t.intermediate[t.intermediate.length - 1].values[METRIC]] })
              }
              const ended = comparable((yield* w.storage.getTrials(w.study.id)).filter((t) => isFinished(t.state)))
              yield* w.scheduler.finish!({ study: w.study, history: w.storage.getTrials(w.study.id) })
              const after = yield* w.storage.getTrials(w.study.id)
              expect(after.filter((t) => t.state === "Waiting" && t.intermediate.length > 0).map((t) => t.number)).toEqual([])
              expect(comparable(after.filter((t) => ended.some((e) => e.number === t.number)))).toEqual(ended)
            }))
        }
      }, timeout)
    }
  })
}
