// Checkpoint retention: which checkpoints a study still needs (a pure function of the checkpoints
// stored and the trials in storage), and a Checkpoint service that deletes the rest.
//
// Why the sweep lists the checkpoints before it reads the trials: a checkpoint it lists was saved
// before the trials were read, so the trials it reads are at least as new as the checkpoints.
// The trainer's convention (save a step, then report it) then means a living trial's newest
// checkpoint is either reported or about to be, so the latest checkpoint at or before a trial's
// last reported step (what PBT copies from a donor) is never among those deleted. A trial that
// ends, or a continuation that starts, after the read can only make fewer checkpoints needed,
// except a new continuation's restore point, which is a donor's reported step and so kept.
import { Cause, Deferred, Effect, FiberId } from "effect"
import type { CheckpointError, CheckpointService, Entry, Key } from "../Checkpoint.js"
import type { StorageError } from "../Errors.js"
import type { StorageService, StudyInfo } from "../Storage.js"
import { dominates, restorePointOf } from "../Study.js"
import type { Direction, FrozenTrial, Json } from "../Trial.js"

/** What to keep of a study's checkpoints. */
export interface Policy {
  /** The last N checkpoints of each running trial (default 2, at least 1). */
  readonly keepLast?: number
  /** The final checkpoint of the best K complete trials by the objective (default 3). */
  readonly keepBest?: number
}

/** The default policy. */
export const defaults: Required<Policy> = { keepLast: 2, keepBest: 3 }

/**
 * The policy with its defaults, checked: `keepLast` at least 1 (a running trial's newest
 * checkpoint is the one it is about to report), `keepBest` at least 0.
 */
export const resolve = (policy: Policy): Required<Policy> => {
  const out = { ...defaults, ...policy }
  if (!Number.isInteger(out.keepLast) || out.keepLast < 1) throw new Error(`retention keepLast: expected a positive integer, got ${out.keepLast}`)
  if (!Number.isInteger(out.keepBest) || out.keepBest < 0) throw new Error(`retention keepBest: expected a non-negative integer, got ${out.keepBest}`)
  return out
}

/** Why a checkpoint is kept. */
export type Reason =
  /** Among the last `keepLast` of a running trial. */
  | { readonly _tag: "Last"; readonly keepLast: number }
  /** The latest at or before a running trial's last reported step: what PBT copies from a donor. */
  | { readonly _tag: "Reported" }
  /** A paused trial resumes from it. */
  | { readonly _tag: "Paused" }
  /** Trial `by` starts from it (a PBT exploit, a continuation) and has not loaded it yet. */
  | { readonly _tag: "Restore"; readonly by: number }
  /** The final checkpoint of the `rank`-th best complete trial, of the `keepBest` kept. */
  | { readonly _tag: "Best"; readonly rank: number; readonly keepBest: number }
  /** A worker is loading it right now. */
  | { readonly _tag: "Loading" }
  /** Its trial is not (yet) in the study's storage: it is not retention's to delete. */
  | { readonly _tag: "Unknown" }

/** A checkpoint and why it is kept: deleted when `reasons` is empty. */
export interface Verdict extends Entry {
  readonly reasons: ReadonlyArray<Reason>
}

/** A reason in words, as `tunekit checkpoints` shows it. */
export const describe = (r: Reason): string => {
  switch (r._tag) {
    case "Last":
      return `last ${r.keepLast}`
    case "Reported":
      return "last reported"
    case "Paused":
      return "paused trial resumes from it"
    case "Restore":
      return `needed by trial ${r.by}`
    case "Best":
      return `best ${r.keepBest} (#${r.rank})`
    case "Loading":
      return "being loaded"
    case "Unknown":
      return "trial not in storage"
  }
}

/** What the plan reads. */
export interface PlanInput {
  readonly policy: Policy
  readonly directions: ReadonlyArray<Direction>
  /**
   * The study's trials: all of them, or (with `nextNumber`) at least those that may keep a
   * checkpoint: the Running ones, the Waiting ones with a reported step or a restore point, and
   * the Complete ones that can be among the best `keepBest` (see `Contenders`).
   */
  readonly trials: ReadonlyArray<FrozenTrial>
  readonly entries: ReadonlyArray<Entry>
  /**
   * Every trial numbered below it exists in storage: one missing from `trials` keeps nothing (it
   * ended Pruned or Failed, or is one of those `trials` may leave out). Without it, a trial missing
   * from `trials` is unknown and its checkpoints are kept.
   */
  readonly nextNumber?: number
  /** Whether a checkpoint is being loaded in this process. */
  readonly loading?: (trial: number, step: number) => boolean
}

const lastStep = (t: FrozenTrial) => t.intermediate.at(-1)?.step

/** Complete trials, best first: by the objective, or by non-dominated front for several (then by number). */
const ranked = (trials: ReadonlyArray<FrozenTrial>, directions: ReadonlyArray<Direction>): ReadonlyArray<FrozenTrial> => {
  const done = trials.filter((t) => t.state === "Complete" && t.values !== undefined && t.values.length === directions.length)
  if (directions.length === 1) {
    const sign = directions[0] === "minimize" ? 1 : -1
    return [...done].sort((a, b) => sign * (a.values![0] - b.values![0]) || a.number - b.number)
  }
  const out: Array<FrozenTrial> = []
  let rest = [...done].sort((a, b) => a.number - b.number)
  while (rest.length > 0) {
    const front = rest.filter((t) => !rest.some((o) => o !== t && dominates(o.values!, t.values!, directions)))
    out.push(...front)
    rest = rest.filter((t) => !front.includes(t))
  }
  return out
}

/**
 * Which checkpoints a study needs, and why; the rest may be deleted. Pure: the same input gives
 * the same verdicts. Kept:
 * - the last `keepLast` checkpoints of each running trial, and its latest at or before its last
 *   reported step (what population-based training copies from a donor);
 * - for a paused trial (Waiting, with reported steps), the checkpoint it resumes from;
 * - a continuation's restore point (`restoreFrom`), until the continuation has loaded it (it has
 *   reported or saved a later step);
 * - the final checkpoint of each of the best `keepBest` complete trials;
 * - whatever is being loaded, and the checkpoints of trials storage does not know.
 */
export const plan = (input: PlanInput): ReadonlyArray<Verdict> => {
  const { keepBest, keepLast } = resolve(input.policy)
  const byTrial = new Map<number, Array<Entry>>()
  for (const e of input.entries) {
    const es = byTrial.get(e.trial) ?? []
    es.push(e)
    byTrial.set(e.trial, es)
  }
  for (const es of byTrial.values()) es.sort((a, b) => a.step - b.step)
  const reasons = new Map<Entry, Array<Reason>>()
  const keep = (e: Entry | undefined, r: Reason) => {
    if (e === undefined) return
    const rs = reasons.get(e) ?? []
    if (!rs.some((x) => x._tag === r._tag && JSON.stringify(x) === JSON.stringify(r))) rs.push(r)
    reasons.set(e, rs)
  }
  const at = (trial: number, step: number) => byTrial.get(trial)?.find((e) => e.step === step)
  const atOrBefore = (trial: number, step: number) => byTrial.get(trial)?.filter((e) => e.step <= step).at(-1)

  ranked(input.trials, input.directions).slice(0, keepBest).forEach((t, i) => keep(byTrial.get(t.number)?.at(-1), { _tag: "Best", rank: i + 1, keepBest }))

  for (const t of input.trials) {
    const own = byTrial.get(t.number) ?? []
    const last = lastStep(t)
    const from = restorePointOf(t)
    if (t.state === "Running") {
      for (const e of own.slice(-keepLast)) keep(e, { _tag: "Last", keepLast })
      if (last !== undefined) keep(atOrBefore(t.number, last), { _tag: "Reported" })
      // A continuation has loaded its restore point once it saved or reported a later step.
      const started = from !== undefined && ((last ?? -Infinity) > from.step || own.some((e) => e.step > from.step))
      if (from !== undefined && from.trial !== t.number && !started) keep(at(from.trial, from.step), { _tag: "Restore", by: t.number })
    } else if (t.state === "Waiting") {
      // A paused trial resumes from its last reported step; a continuation not yet started, from its restore point.
      if (last !== undefined) keep(atOrBefore(t.number, last), { _tag: "Paused" })
      else if (from !== undefined) keep(at(from.trial, from.step), { _tag: "Restore", by: t.number })
    }
  }

  const known = new Set(input.trials.map((t) => t.number))
  return [...input.entries]
    .sort((a, b) => a.trial - b.trial || a.step - b.step)
    .map((e) => {
      const rs = reasons.get(e) ?? []
      if (e.loading === true || input.loading?.(e.trial, e.step) === true) rs.push({ _tag: "Loading" })
      if (!known.has(e.trial) && (input.nextNumber === undefined || e.trial >= input.nextNumber)) rs.push({ _tag: "Unknown" })
      return { ...e, reasons: rs }
    })
}

/** The study system attribute where retention records its policy (for `tunekit checkpoints`). */
export const POLICY_ATTR = "checkpointRetention"

/** The policy a study's runs recorded, if any. */
export const policyOf = (info: StudyInfo): Required<Policy> | undefined => {
  const p = info.systemAttrs[POLICY_ATTR] as { keepLast?: unknown; keepBest?: unknown } | null | undefined
  if (p === null || typeof p !== "object") return undefined
  try {
    return resolve({ ...(typeof p.keepLast === "number" ? { keepLast: p.keepLast } : {}), ...(typeof p.keepBest === "number" ? { keepBest: p.keepBest } : {}) })
  } catch {
    return undefined
  }
}

/** Deletes the checkpoints the verdicts keep for no reason, one `remove` per trial. */
export const removeUnkept = (store: CheckpointService, study: string, verdicts: ReadonlyArray<Verdict>): Effect.Effect<ReadonlyArray<Verdict>, CheckpointError> => {
  const gone = verdicts.filter((v) => v.reasons.length === 0)
  const byTrial = new Map<number, Array<number>>()
  for (const v of gone) byTrial.set(v.trial, [...(byTrial.get(v.trial) ?? []), v.step])
  return Effect.as(Effect.forEach(byTrial, ([trial, steps]) => store.remove({ study, trial }, { steps }), { discard: true }), gone)
}

/**
 * One sweep of a study: lists its checkpoints, then reads its trials (in that order, see the top of
 * this file), plans, and deletes what is not needed. Gives the verdicts.
 */
export const sweep = (
  store: CheckpointService,
  storage: StorageService,
  study: string,
  policy: Policy,
  loading?: (trial: number, step: number) => boolean
): Effect.Effect<ReadonlyArray<Verdict>, CheckpointError | StorageError> =>
  Effect.gen(function*() {
    if (store.list === undefined) return []
    const entries = yield* store.list(study)
    if (entries.length === 0) return []
    const info = yield* Effect.catchTag(storage.getStudy(study), "StudyNotFound", () => Effect.succeed(undefined))
    if (info === undefined) return []
    const trials = yield* storage.getTrials(info.id, { states: ["Waiting", "Running", "Complete"] })
    const nextNumber = yield* storage.nextNumber(info.id)
    const verdicts = plan({ policy, directions: info.directions, trials, entries, nextNumber, ...(loading ? { loading } : {}) })
    yield* removeUnkept(store, study, verdicts)
    return verdicts
  })

/**
 * The complete trials that can be among the best `keepBest`, now or later, kept up to date one
 * completed trial at a time (O(size) each) instead of ranking every complete trial at each sweep.
 *
 * Complete trial `a` is ahead of `b` for good when it dominates `b`, or has `b`'s values and a
 * smaller number: however many trials complete later, `ranked` puts `a` before `b` (a dominated
 * trial is on a later front; equal values share every front, ordered by number). A trial with
 * `keepBest` trials ahead of it for good is never among the best again, so it is dropped. What is
 * left ranks as among all complete trials: whatever is ahead of a member for good is a member too
 * (else the member would have more than `keepBest` ahead of it), so a member's front, which only
 * the trials dominating it decide (Deb et al. 2002, non-dominated sorting), is the same. With one
 * objective "ahead" is the total order `ranked` sorts by, and the members are the best `keepBest`.
 */
export class Contenders {
  private readonly members = new Map<number, { readonly trial: FrozenTrial; behind: number }>()
  constructor(readonly keepBest: number, readonly directions: ReadonlyArray<Direction>) {}

  /** Takes in a trial that has just completed (others, and one taken in before, are ignored). */
  add(t: FrozenTrial): void {
    const { directions } = this
    if (t.state !== "Complete" || t.values === undefined || t.values.length !== directions.length || this.members.has(t.number)) return
    const ahead = (a: FrozenTrial, b: FrozenTrial) =>
      dominates(a.values!, b.values!, directions) || (a.number < b.number && a.values!.every((v, i) => v === b.values![i]))
    let behind = 0
    for (const [n, m] of this.members) {
      if (ahead(m.trial, t)) behind++
      else if (ahead(t, m.trial) && ++m.behind >= this.keepBest) this.members.delete(n)
    }
    if (behind < this.keepBest) this.members.set(t.number, { trial: t, behind })
  }

  get trials(): ReadonlyArray<FrozenTrial> {
    return [...this.members.values()].map((m) => m.trial)
  }
}

/**
 * What a retention service knows of a study's trials, followed through `Storage.changedTrials`:
 * the trials that may keep a checkpoint (see `PlanInput.trials`), as of change counter `seq`.
 */
interface Followed {
  readonly storage: StorageService
  studyId: number | undefined
  seq: number
  /** Running trials, and Waiting ones with a reported step or a restore point. */
  living: Map<number, FrozenTrial>
  /** Trials seen finished: they never change again. */
  ended: Set<number>
  best: Contenders
}

const following = (storage: StorageService): Followed => ({
  storage,
  studyId: undefined,
  seq: 0,
  living: new Map(),
  ended: new Set(),
  best: new Contenders(0, [])
})

/** Brings a followed study up to date: reads the trials changed since the last time (all, the first time). */
const follow = (f: Followed, info: StudyInfo, policy: Required<Policy>): Effect.Effect<void, StorageError> =>
  Effect.gen(function*() {
    if (f.studyId !== info.id) {
      // First read of the study (or one deleted and made again under its name): from the start.
      Object.assign(f, { studyId: info.id, seq: 0, living: new Map(), ended: new Set(), best: new Contenders(policy.keepBest, info.directions) })
    }
    const changes = yield* f.storage.changedTrials!(info.id, f.seq)
    for (const t of changes.trials) {
      if (f.ended.has(t.number)) continue
      f.living.delete(t.number)
      if (t.state === "Running" || (t.state === "Waiting" && (lastStep(t) !== undefined || restorePointOf(t) !== undefined))) {
        f.living.set(t.number, t)
      } else if (t.state !== "Waiting") {
        f.ended.add(t.number)
        f.best.add(t)
      }
    }
    f.seq = changes.seq
  })

/**
 * One sweep of a followed study: as `sweep`, but reading only the trials changed since the last
 * sweep, so that its cost does not grow with the study's history (the stored checkpoints, which
 * the policy bounds, and the living trials are what it reads and plans over). A storage without
 * `changedTrials` is read whole, as `sweep` does.
 */
const sweepFollowed = (
  store: CheckpointService,
  f: Followed,
  study: string,
  policy: Required<Policy>,
  loading: (trial: number, step: number) => boolean
): Effect.Effect<ReadonlyArray<Verdict>, CheckpointError | StorageError> =>
  Effect.gen(function*() {
    const { storage } = f
    if (storage.changedTrials === undefined) return yield* sweep(store, storage, study, policy, loading)
    if (store.list === undefined) return []
    const entries = yield* store.list(study)
    if (entries.length === 0) return []
    const info = yield* Effect.catchTag(storage.getStudy(study), "StudyNotFound", () => Effect.succeed(undefined))
    if (info === undefined) return []
    yield* follow(f, info, policy)
    const nextNumber = yield* storage.nextNumber(info.id)
    const trials = [...f.living.values(), ...f.best.trials]
    const verdicts = plan({ policy, directions: info.directions, trials, entries, nextNumber, loading })
    yield* removeUnkept(store, study, verdicts)
    return verdicts
  })

/** How long a settle skips a study whose store held nothing at its last sweep (see `quietUntil`). */
const QUIET_MS = 1000

/**
 * A Checkpoint service that applies a retention policy to a store: each save, and each `settle`
 * (the run loop's word that trials changed, which also hands over the study's storage), sweeps the
 * study. A study's first sweep reads all its trials; each later one only those changed since
 * (`sweepFollowed`), so a sweep costs the same after 10 trials as after 10,000. Sweeps of one study
 * run one at a time; a sweep asked for while one runs is folded into it. Loads in progress in this
 * process are kept (the stores keep those of other processes).
 */
export const retained = (store: CheckpointService, policy: Policy): CheckpointService => {
  const resolved = resolve(policy)
  if (store.list === undefined) throw new Error(`checkpoint retention needs a store that lists its checkpoints; ${store.label} does not`)
  const studies = new Map<string, Followed>()
  const loads = new Map<string, number>()
  const state = new Map<string, { running: boolean; next: Deferred.Deferred<void> | undefined }>()
  const recorded = new Set<string>()
  // A study whose store held nothing at its last sweep, and that this process has saved nothing
  // for since, is not listed again by a settle before this time: a study that saves no checkpoints
  // would otherwise cost a listing (a statement on PostgreSQL) after every trial.
  const quietUntil = new Map<string, number>()
  // Saves per study, so that a sweep that listed nothing before a save (made meanwhile) does not
  // mark the study quiet after it.
  const saves = new Map<string, number>()
  const id = (study: string, trial: number, step: number) => JSON.stringify([study, trial, step])

  const record = (study: string, storage: StorageService) =>
    Effect.gen(function*() {
      if (recorded.has(study)) return
      const info = yield* Effect.catchTag(storage.getStudy(study), "StudyNotFound", () => Effect.succeed(undefined))
      if (info === undefined) return
      recorded.add(study)
      const value = resolved as unknown as Json
      if (JSON.stringify(info.systemAttrs[POLICY_ATTR]) !== JSON.stringify(value)) yield* storage.setStudyAttr(info.id, "system", POLICY_ATTR, value)
    })

  // One sweep of a study at a time. A caller that comes while one runs waits for the next, which
  // starts after the current one and serves every caller that came meanwhile: when `run` returns,
  // a sweep that listed the store after the call began has finished.
  const run = (study: string): Effect.Effect<void> =>
    Effect.suspend(() => {
      const followed = studies.get(study)
      if (followed === undefined) return Effect.void
      const s = state.get(study) ?? { running: false, next: undefined }
      state.set(study, s)
      if (s.running) return Deferred.await(s.next ??= Deferred.unsafeMake<void>(FiberId.none))
      s.running = true
      const once = Effect.suspend(() => {
        const savedBefore = saves.get(study) ?? 0
        return Effect.tap(sweepFollowed(store, followed, study, resolved, (trial, step) => loads.has(id(study, trial, step))), (verdicts) => {
          if (verdicts.length === 0 && (saves.get(study) ?? 0) === savedBefore) quietUntil.set(study, Date.now() + QUIET_MS)
          else quietUntil.delete(study)
        })
      }).pipe(
        Effect.catchAll((e) => Effect.logWarning(`checkpoint retention of study "${study}" failed (nothing more was deleted): ${e.message}`)),
        Effect.catchAllDefect((d) => Effect.logWarning(`checkpoint retention of study "${study}" failed (nothing more was deleted): ${Cause.pretty(Cause.die(d))}`))
      )
      const drive = Effect.gen(function*() {
        yield* once
        for (let waiting = s.next; waiting !== undefined; waiting = s.next) {
          s.next = undefined
          yield* once
          yield* Deferred.succeed(waiting, undefined)
        }
      })
      // Interrupted, the driver hands over: whoever waits goes on (the next save sweeps again).
      return drive.pipe(
        Effect.ensuring(Effect.suspend(() => {
          s.running = false
          const waiting = s.next
          s.next = undefined
          return waiting === undefined ? Effect.void : Deferred.succeed(waiting, undefined)
        }))
      )
    })

  const pinned = <A, E>(key: Key, step: number | undefined, load: Effect.Effect<A, E>) => {
    if (step === undefined) return load
    const k = id(key.study, key.trial, step)
    return Effect.acquireUseRelease(
      Effect.sync(() => loads.set(k, (loads.get(k) ?? 0) + 1)),
      () => load,
      () => Effect.sync(() => (loads.get(k) === 1 ? loads.delete(k) : loads.set(k, loads.get(k)! - 1)))
    )
  }

  return {
    label: `${store.label} (retention: last ${resolved.keepLast}, best ${resolved.keepBest})`,
    save: (key, step, data) =>
      Effect.zipRight(
        store.save(key, step, data),
        Effect.suspend(() => {
          quietUntil.delete(key.study)
          saves.set(key.study, (saves.get(key.study) ?? 0) + 1)
          return run(key.study)
        })
      ),
    load: (key, step) => pinned(key, step, store.load(key, step)),
    steps: store.steps,
    remove: store.remove,
    list: store.list,
    settle: (study, storage) =>
      Effect.suspend(() => {
        // Another storage under the same name is followed from its start.
        if (studies.get(study)?.storage !== storage) {
          studies.set(study, following(storage))
          quietUntil.delete(study)
        }
        if ((quietUntil.get(study) ?? 0) > Date.now()) return Effect.void
        return Effect.zipRight(
          record(study, storage).pipe(Effect.catchAll((e) => Effect.logWarning(`checkpoint retention: cannot record the policy of study "${study}": ${e.message}`))),
          run(study)
        )
      })
  }
}
