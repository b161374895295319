// Synchronous PBT (Ray Tune's PopulationBasedTraining with `synch=True`) as scheduler operations.
//
// Boundaries are the steps k * perturbationInterval, the same for every member. A member reaching
// boundary k pauses (its trial is stored Waiting, resumable from its checkpoint at k) unless every
// other living member of the population has reached k too: then the decisions for all of them at
// k are taken at once, from their values at k (the bottom quantile exploits the top one, as
// Jaderberg et al. 2017 do, each member with a generator derived from the study's seed, the
// boundary and the member), so that they depend neither on the order in which members arrived
// nor on which worker arrived last. The decisions are written once, through a claim, as the study
// attribute `pbtSynch:<step>`, after the continuations they create; every worker, in any process,
// reads the same ones. Paused members kept by a boundary are resumed (`resume`); those exploited
// end as Pruned, continued by their continuation as in asynchronous PBT.
import { Effect, Option } from "effect"
import { type Rng, Scheduler, type Space, Storage, StorageError, Study, Trial } from "@tunekit/core"
import * as internal from "./pbt.js"

/** The prefix of the study attributes that hold a boundary's decisions: `pbtSynch:<step>`. */
export const RECORD = "pbtSynch"

/** What a boundary decided, as stored. */
export interface BoundaryRecord {
  readonly step: number
  /** The members that had reached it, with their trial there and their value. */
  readonly members: ReadonlyArray<{ readonly member: number; readonly trial: number; readonly score: number | null }>
  /** The exploited ones: their trial, the continuation, and the reason stored on the trial. */
  readonly exploited: ReadonlyArray<{ readonly member: number; readonly trial: number; readonly next: number; readonly reason: string }>
}

export interface Deps {
  readonly options: internal.Options
  readonly storage: Storage.StorageService
  readonly rng: Rng.RngService
  readonly spaceOf: (study: Storage.StudyInfo) => Effect.Effect<Space.Compiled<unknown>>
  readonly restoreStep: (study: string, donor: Trial.FrozenTrial) => Effect.Effect<number | undefined>
  readonly continueMember: ContinueMember
}

/**
 * Continues a member exploited at `exploitedAt` in a new trial: the donor's explored config, from
 * the donor's checkpoint of `step` (PBT's own, shared by both modes).
 */
export type ContinueMember = (
  studyId: number,
  trial: Trial.FrozenTrial,
  donor: Trial.FrozenTrial,
  step: number,
  explored: internal.Explored,
  exploitedAt: number
) => Effect.Effect<{ readonly next: number; readonly reason: string }, StorageError>

/** How long a worker waits, by default, for the decisions of a boundary another worker has claimed. */
const AWAIT_MS = 60_000
const POLL_MS = 20
/** How many times a boundary whose decider went silent is taken over before the study fails. */
const TAKEOVERS = 3

const isRecord = (u: unknown): u is BoundaryRecord =>
  u !== null && typeof u === "object" && typeof (u as BoundaryRecord).step === "number" && Array.isArray((u as BoundaryRecord).exploited)

const isPaused = (t: Trial.FrozenTrial) => t.state === "Waiting" && t.intermediate.length > 0

export const make = (deps: Deps) =>
  Effect.gen(function*() {
    const { options, rng, storage } = deps
    const interval = options.perturbationInterval
    const size = options.population ?? 1
    // One boundary decision at a time in this process; across processes, the claim.
    const lock = yield* Effect.makeSemaphore(1)
    const worker = Storage.workerId()
    // The records read so far, by study id then step: a record never changes once written.
    const known = new Map<number, Map<number, BoundaryRecord>>()

    const objectiveOf = (study: Storage.StudyInfo, objectives?: Scheduler.DecideContext["objectives"]) => ({
      metric: options.metric ?? objectives?.[0]?.metric ?? study.metrics[0] ?? "value",
      direction: options.direction ?? objectives?.[0]?.direction ?? study.directions[0] ?? "minimize"
    })

    /** The boundaries' records of a study, read from storage (one read of the study). */
    const recordsOf = (study: Storage.StudyInfo) =>
      Effect.gen(function*() {
        const info = yield* Effect.catchTag(storage.getStudy(study.name), "StudyNotFound", (e) =>
          Effect.fail(new StorageError({ operation: "pbt synch", reason: e.message })))
        let records = known.get(study.id)
        if (records === undefined) known.set(study.id, records = new Map())
        for (const [k, v] of Object.entries(info.systemAttrs)) {
          if (k.startsWith(`${RECORD}:`) && isRecord(v)) records.set(v.step, v)
        }
        return records as ReadonlyMap<number, BoundaryRecord>
      })

    /** A boundary's record: from those read already (a record never changes), else from storage. */
    const recordAt = (study: Storage.StudyInfo, step: number) =>
      Effect.suspend(() => {
        const have = known.get(study.id)?.get(step)
        return have !== undefined ? Effect.succeed(have) : Effect.map(recordsOf(study), (records) => records.get(step))
      })

    /** The record of a boundary another worker claimed, once written; undefined after the wait. */
    const awaitRecord = (study: Storage.StudyInfo, step: number) =>
      Effect.gen(function*() {
        const until = Date.now() + (options.synchWaitMs ?? AWAIT_MS)
        for (;;) {
          const r = yield* recordAt(study, step)
          if (r !== undefined || Date.now() >= until) return r
          yield* Effect.sleep(POLL_MS)
        }
      })

    /**
     * Claims a boundary (true), or gives the record its claimer wrote. A claimer that writes nothing
     * within the wait (it died deciding) is taken over through a claim of its own, up to TAKEOVERS
     * times; the taker decides again, reusing any continuation the dead one created.
     */
    const claimBoundary = (study: Storage.StudyInfo, key: string, step: number) =>
      Effect.gen(function*() {
        for (let attempt = 0; attempt <= TAKEOVERS; attempt++) {
          if (yield* storage.claim(study.id, attempt === 0 ? key : `${key}:takeover-${attempt}`)) return attempt
          const r = yield* awaitRecord(study, step)
          if (r !== undefined) return r
          yield* Effect.logWarning(`pbt (synch): the decisions at step ${step} were claimed but not written in time; taking the boundary over`)
        }
        return yield* new StorageError({
          operation: "pbt synch",
          reason: `the decisions at step ${step} were claimed ${TAKEOVERS + 1} times and never written (did every decider die?)`
        })
      })

    /**
     * The decisions at boundary k: read, or taken now when every living member has reached it
     * (undefined while one has not). The worker that claims the boundary creates the
     * continuations, in member order (so their numbers are the same in every run), then writes
     * the record; the others wait for it.
     */
    const decideBoundary = (study: Storage.StudyInfo, k: number, history: ReadonlyArray<Trial.FrozenTrial>, direction: Trial.Direction, metric: string) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const step = k * interval
        const population = internal.populationOf(history, size)
        const at = population.complete ? internal.arrivedAt(population.members, k, interval, metric) : undefined
        if (at === undefined || at.length === 0) return known.get(study.id)?.get(step)
        // Another fiber or worker may have decided it since the caller read the records.
        const have = yield* recordAt(study, step)
        if (have !== undefined) return have
        const key = `${RECORD}:${step}`
        const claimed = yield* claimBoundary(study, key, step)
        if (typeof claimed !== "number") return claimed
        // A takeover reads the study again: the continuations the dead decider made are reused.
        const current = claimed === 0 ? history : yield* storage.getTrials(study.id)
        const plan = internal.boundaryPlan({
          options,
          space: yield* deps.spaceOf(study),
          members: at,
          direction,
          rngOf: (member) => rng.derive(study.name, "pbt", "synch", step, member)
        })
        const exploited: Array<BoundaryRecord["exploited"][number]> = []
        for (const e of plan) {
          const from = yield* deps.restoreStep(study.name, e.donor)
          // A donor without a checkpoint is not used; one trained to the end leaves nothing to train.
          if (from === undefined || (options.maxStep !== undefined && from >= options.maxStep)) continue
          const arrival = e.trial.intermediate.find((m) => m.step >= step)?.step ?? step
          const made = current.find((t) => internal.lineageOf(t)?.parent === e.trial.number)
          const c = made === undefined
            ? yield* deps.continueMember(study.id, e.trial, e.donor, from, e.explored, arrival)
            : yield* reuse(e.trial, made)
          exploited.push({ member: e.member, trial: e.trial.number, ...c })
        }
        const record: BoundaryRecord = {
          step,
          members: at.map((m) => ({ member: m.member, trial: m.trial.number, score: m.score ?? null })),
          exploited
        }
        yield* storage.setStudyAttr(study.id, "system", key, record as unknown as Trial.Json)
        known.get(study.id)!.set(step, record)
        return record
      }))

    /** A continuation a dead decider made: named on its exploited trial (again), and reused. */
    const reuse = (exploited: Trial.FrozenTrial, made: Trial.FrozenTrial) =>
      Effect.as(
        ignoreState(storage.setTrialAttr(exploited.id, "system", internal.NEXT, made.number)),
        { next: made.number, reason: internal.exploitReason(internal.lineageOf(made)!, made.number) }
      )

    const ignoreState = <A, E extends { readonly _tag: string }>(e: Effect.Effect<A, E>) =>
      Effect.catchIf(Effect.asVoid(e), (x): x is Extract<E, { _tag: "TrialStateError" }> => x._tag === "TrialStateError", () => Effect.void)

    /** Ends a paused trial as Pruned with its last values (another worker may have taken it first). */
    const retire = (study: Storage.StudyInfo, t: Trial.FrozenTrial, reason: string) =>
      Effect.gen(function*() {
        const taken = yield* storage.claimWaiting(study.id, worker, t.id)
        if (Option.isNone(taken)) return
        const last = t.intermediate[t.intermediate.length - 1]
        const names = study.metrics.length > 0 ? study.metrics : [objectiveOf(study).metric]
        const values = names.map((n) => last?.values[n])
        const ok = values.length === study.directions.length && values.every((v) => v !== undefined && Number.isFinite(v))
        yield* ignoreState(storage.finishTrial(t.id, { state: "Pruned", reason, ...(ok ? { values: values as Array<number> } : {}) }))
      })

    const exploitOf = (records: ReadonlyMap<number, BoundaryRecord>, trial: number) => {
      for (const r of records.values()) {
        const e = r.exploited.find((x) => x.trial === trial)
        if (e !== undefined) return e
      }
      return undefined
    }

    const decide = (ctx: Scheduler.DecideContext): Effect.Effect<Scheduler.Decision, StorageError> =>
      Effect.gen(function*() {
        const trial = ctx.trial
        if (Trial.isFinished(trial.state)) return Scheduler.Continue
        const { direction, metric } = objectiveOf(ctx.study, ctx.objectives)
        if (ctx.metric.values[metric] === undefined) return Scheduler.Continue
        const k = internal.crossing(trial, ctx.metric.step, interval)
        if (k === undefined || (options.maxStep !== undefined && k * interval >= options.maxStep)) return Scheduler.Continue
        const history = (yield* ctx.history).map((t) => (t.number === trial.number ? trial : t))
        const population = internal.populationOf(history, size)
        // A trial beyond the population (a study run with more trials than members) trains alone.
        if (!population.members.has(internal.memberOf(trial))) return Scheduler.Continue
        const record = (yield* recordAt(ctx.study, k * interval)) ?? (yield* decideBoundary(ctx.study, k, history, direction, metric))
        if (record !== undefined) {
          const e = record.exploited.find((x) => x.trial === trial.number)
          return e === undefined ? Scheduler.Continue : Scheduler.Decision.Prune({ reason: e.reason })
        }
        // Waits at the boundary. A continuation that pauses resumes from its own checkpoint, not
        // its donor's: its restore point goes (its lineage keeps it), so that nothing takes it as
        // a continuation not yet started.
        const from = Study.restorePointOf(trial)
        if (from !== undefined && from.trial !== trial.number) {
          yield* ignoreState(storage.setTrialAttr(trial.id, "system", Study.RESTORE_FROM, null))
        }
        return Scheduler.Decision.Pause()
      })

    const resume: NonNullable<Scheduler.SchedulerService["resume"]> = (ctx) =>
      Effect.gen(function*() {
        const history = yield* ctx.history
        const population = internal.populationOf(history, size)
        const paused = history
          .filter((t) => isPaused(t) && population.members.has(internal.memberOf(t)))
          .sort((a, b) => a.number - b.number)
        if (paused.length === 0) return Option.none<number>()
        const { direction, metric } = objectiveOf(ctx.study)
        const records = yield* recordsOf(ctx.study)
        for (const t of paused) {
          const exploited = exploitOf(records, t.number)
          if (exploited !== undefined) {
            yield* retire(ctx.study, t, exploited.reason)
            continue
          }
          const k = internal.reachedBefore(t, interval)
          const record = records.get(k * interval) ?? (yield* decideBoundary(ctx.study, k, history, direction, metric))
          if (record === undefined) continue
          const e = record.exploited.find((x) => x.trial === t.number)
          if (e !== undefined) yield* retire(ctx.study, t, e.reason)
          else return Option.some(t.id)
        }
        return Option.none<number>()
      })

    const finish: NonNullable<Scheduler.SchedulerService["finish"]> = (ctx) =>
      Effect.gen(function*() {
        const history = yield* ctx.history
        const paused = history.filter(isPaused)
        if (paused.length === 0) return
        const population = internal.populationOf(history, size)
        if (!population.complete) {
          // Workers that start later (or the next optimize of the study) bring the missing members.
          const members = new Set(history.map(internal.memberOf)).size
          return yield* Effect.logWarning(
            `pbt (synch): ${members} of the population's ${size} members exist; ${paused.length} paused at a boundary wait for the others ` +
              `(run more trials or workers on study "${ctx.study.name}" to go on)`
          )
        }
        const records = yield* recordsOf(ctx.study)
        for (const t of paused) {
          const step = internal.reachedBefore(t, interval) * interval
          const reason = exploitOf(records, t.number)?.reason ??
            `pbt: paused at step ${Trial.lastStep(t)}, waiting for the population's other members at step ${step}, when the study ended`
          yield* retire(ctx.study, t, reason)
        }
      })

    return { decide, resume, finish }
  })
