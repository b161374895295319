// Storage in this process's memory. Frozen snapshots are cached per trial and rebuilt on write.
import { Effect, Option } from "effect"
import type * as Distribution from "../Distribution.js"
import { ClaimTaken, type InvalidSpace, StudyNotFound, TrialStateError } from "../Errors.js"
import type { StorageService, StudyInfo } from "../Storage.js"
import type { FrozenTrial, Json, Metric, State } from "../Trial.js"
import { checkCompatible, checkDirections, notRunning, sampledFor } from "./storageRules.js"

interface MutableTrial {
  id: number
  studyId: number
  number: number
  state: State
  params: Record<string, number>
  distributions: Record<string, Distribution.Distribution>
  values: ReadonlyArray<number> | undefined
  intermediate: Array<Metric>
  userAttrs: Record<string, Json>
  systemAttrs: Record<string, Json>
  startedAt: number | undefined
  finishedAt: number | undefined
  worker: string | undefined
  reason: string | undefined
  heartbeat: number | undefined
  paused: boolean
  frozen: FrozenTrial | undefined
  /** The study's change counter at the trial's last change (`changedTrials`). */
  seq: number
}

interface MemoryStudy {
  info: StudyInfo
  trials: Array<MutableTrial>
  /** How many trials are Waiting: most asks find none, and skip the scan. */
  waiting: number
  claims: Set<string>
  params: Map<string, Distribution.Distribution>
  /** Counts the changes of the study's trials. */
  seq: number
  /**
   * The trials in the order of their changes, each with the seq of that change (a trial changed
   * twice is in it twice), so that `changedTrials` reads only what changed, not the whole study.
   * Rebuilt from the trials when it grows past a few entries per trial.
   */
  log: Array<{ readonly seq: number; readonly trial: MutableTrial }>
}

/** Notes a trial's change in its study's log. */
const logChange = (s: MemoryStudy, t: MutableTrial) => {
  s.log.push({ seq: t.seq, trial: t })
  if (s.log.length > 4 * s.trials.length + 64) {
    s.log = [...s.trials].sort((a, b) => a.seq - b.seq).map((trial) => ({ seq: trial.seq, trial }))
  }
}

const freeze = (t: MutableTrial): FrozenTrial =>
  (t.frozen ??= {
    id: t.id,
    number: t.number,
    state: t.state,
    params: { ...t.params },
    distributions: { ...t.distributions },
    values: t.values,
    intermediate: [...t.intermediate],
    userAttrs: { ...t.userAttrs },
    systemAttrs: { ...t.systemAttrs },
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
    worker: t.worker,
    reason: t.reason
  })

export const makeMemory = (): StorageService => {
  const studies = new Map<string, MemoryStudy>()
  const byId = new Map<number, MemoryStudy>()
  const trials = new Map<number, MutableTrial>()
  let nextStudyId = 1
  let nextTrialId = 1

  const trialOf = (id: number) =>
    Effect.suspend(() => {
      const t = trials.get(id)
      return t ? Effect.succeed(t) : Effect.fail(new TrialStateError({ trial: id, reason: `no trial with id ${id}` }))
    })
  const running = (id: number, operation: string) =>
    Effect.flatMap(trialOf(id), (t) => (t.state === "Running" ? Effect.succeed(t) : Effect.fail(notRunning(t.number, t.state, operation))))
  const touch = (t: MutableTrial) => {
    t.frozen = undefined
    const s = studyOf(t.studyId)
    t.seq = ++s.seq
    logChange(s, t)
  }
  const studyOf = (id: number) => byId.get(id)!

  const storage: StorageService = {
    label: "memory",
    createStudy: (name, options) =>
      Effect.suspend(() => {
        const existing = studies.get(name)
        if (existing) {
          const mismatch = checkDirections(name, existing.info.directions, options.directions)
          return mismatch ? Effect.fail(mismatch) : Effect.succeed(existing.info)
        }
        const info: StudyInfo = {
          id: nextStudyId++,
          name,
          directions: [...options.directions],
          metrics: [...(options.metrics ?? [])],
          userAttrs: {},
          systemAttrs: {},
          createdAt: Date.now()
        }
        const s: MemoryStudy = { info, trials: [], waiting: 0, claims: new Set(), params: new Map(), seq: 0, log: [] }
        studies.set(name, s)
        byId.set(info.id, s)
        return Effect.succeed(info)
      }),
    getStudy: (name) =>
      Effect.suspend(() => {
        const s = studies.get(name)
        return s ? Effect.succeed(s.info) : Effect.fail(new StudyNotFound({ study: name }))
      }),
    listStudies: () => Effect.sync(() => [...studies.values()].map((s) => s.info)),
    deleteStudy: (name) =>
      Effect.suspend(() => {
        const s = studies.get(name)
        if (!s) return Effect.fail(new StudyNotFound({ study: name }))
        studies.delete(name)
        byId.delete(s.info.id)
        for (const t of s.trials) trials.delete(t.id)
        return Effect.void
      }),
    setStudyAttr: (studyId, kind, key, value) =>
      Effect.sync(() => {
        const s = studyOf(studyId)
        const field = kind === "user" ? "userAttrs" : "systemAttrs"
        s.info = { ...s.info, [field]: { ...s.info[field], [key]: value } }
      }),
    createTrial: (studyId, init) =>
      Effect.suspend(() => {
        const s = studyOf(studyId)
        const sampled = sampledFor(init, s.trials.length)
        const keep = sampled !== undefined && (init.claim === undefined || !s.claims.has(init.claim))
        const distributions = keep ? { ...sampled.distributions } : {}
        const incompatible = checkCompatible(s.params, distributions)
        if (incompatible) return Effect.fail(incompatible)
        for (const [k, d] of Object.entries(distributions)) if (!s.params.has(k)) s.params.set(k, d)
        const now = Date.now()
        const t: MutableTrial = {
          id: nextTrialId++,
          studyId,
          number: s.trials.length,
          state: init.state,
          params: keep ? { ...sampled.params } : {},
          distributions,
          values: undefined,
          intermediate: [],
          userAttrs: { ...(init.userAttrs ?? {}) },
          systemAttrs: { ...(init.systemAttrs ?? {}), ...(keep && init.claim !== undefined ? { claim: init.claim } : {}) },
          startedAt: init.state === "Running" ? now : undefined,
          finishedAt: undefined,
          worker: init.state === "Running" ? init.worker : undefined,
          reason: undefined,
          heartbeat: init.state === "Running" ? now : undefined,
          paused: false,
          frozen: undefined,
          seq: ++s.seq
        }
        if (keep && init.claim !== undefined) s.claims.add(init.claim)
        if (t.state === "Waiting") s.waiting++
        s.trials.push(t)
        trials.set(t.id, t)
        logChange(s, t)
        return Effect.succeed(freeze(t))
      }),
    nextNumber: (studyId) => Effect.sync(() => studyOf(studyId).trials.length),
    claimWaiting: (studyId, worker, trialId) =>
      Effect.sync(() => {
        const s = studyOf(studyId)
        if (s.waiting === 0) return Option.none()
        const t = s.trials.find((t) =>
          t.state === "Waiting" && (trialId === undefined ? !t.paused : t.id === trialId)
        )
        if (!t) return Option.none()
        const now = Date.now()
        s.waiting--
        t.state = "Running"
        t.worker = worker
        t.startedAt ??= now
        t.heartbeat = now
        t.paused = false
        touch(t)
        return Option.some(freeze(t))
      }),
    setParams: (trialId, params, distributions, claim) =>
      Effect.flatMap(running(trialId, "set parameters"), (t): Effect.Effect<void, InvalidSpace | ClaimTaken> => {
        const s = studyOf(t.studyId)
        if (claim !== undefined && s.claims.has(claim)) return Effect.fail(new ClaimTaken({ claim }))
        const incompatible = checkCompatible(s.params, distributions)
        if (incompatible) return Effect.fail(incompatible)
        for (const [k, d] of Object.entries(distributions)) if (!s.params.has(k)) s.params.set(k, d)
        if (claim !== undefined) {
          s.claims.add(claim)
          t.systemAttrs.claim = claim
        }
        Object.assign(t.params, params)
        Object.assign(t.distributions, distributions)
        touch(t)
        return Effect.void
      }),
    report: (trialId, metric) =>
      Effect.map(running(trialId, "report"), (t) => {
        const last = t.intermediate[t.intermediate.length - 1]
        if (last === undefined || last.step < metric.step) t.intermediate.push(metric)
        else {
          const i = t.intermediate.findIndex((m) => m.step >= metric.step)
          if (t.intermediate[i].step === metric.step) t.intermediate[i] = metric
          else t.intermediate.splice(i, 0, metric)
        }
        touch(t)
      }),
    setTrialAttr: (trialId, kind, key, value) =>
      Effect.flatMap(trialOf(trialId), (t) => {
        if (t.state !== "Running" && t.state !== "Waiting") return Effect.fail(notRunning(t.number, t.state, "set an attribute"))
        ;(kind === "user" ? t.userAttrs : t.systemAttrs)[key] = value
        touch(t)
        return Effect.void
      }),
    pauseTrial: (trialId) =>
      Effect.map(running(trialId, "pause"), (t) => {
        studyOf(t.studyId).waiting++
        t.state = "Waiting"
        t.paused = true
        t.worker = undefined
        touch(t)
      }),
    finishTrial: (trialId, end) =>
      Effect.flatMap(running(trialId, "finish"), (t) => {
        const finish = () => {
          t.state = end.state
          t.values = end.values ? [...end.values] : t.values
          t.reason = end.reason
          t.finishedAt = end.finishedAt ?? Date.now()
          touch(t)
          return freeze(t)
        }
        // (A retry's distributions are the trial's own: a conflict is a defect of the caller.)
        // (Without makesNext: a write costs less here than sampling ahead, and `end.next` is ignored.)
        return end.retry === undefined ? Effect.sync(finish) : Effect.map(Effect.orDie(storage.createTrial(t.studyId, end.retry)), finish)
      }),
    claim: (studyId, key) =>
      Effect.sync(() => {
        const s = studyOf(studyId)
        if (s.claims.has(key)) return false
        s.claims.add(key)
        return true
      }),
    heartbeat: (ids) =>
      Effect.sync(() => {
        const now = Date.now()
        for (const id of ids) {
          const t = trials.get(id)
          if (t && t.state === "Running") t.heartbeat = now
        }
      }),
    getTrial: (trialId) => Effect.map(trialOf(trialId), freeze),
    getTrials: (studyId, options) =>
      Effect.sync(() => {
        const s = byId.get(studyId)
        if (!s) return []
        const states = options?.states
        const out: Array<FrozenTrial> = []
        for (const t of s.trials) if (!states || states.includes(t.state)) out.push(freeze(t))
        return out
      }),
    heartbeats: (studyId) =>
      Effect.sync(() => {
        const out = new Map<number, number>()
        for (const t of byId.get(studyId)?.trials ?? []) if (t.state === "Running" && t.heartbeat !== undefined) out.set(t.id, t.heartbeat)
        return out
      }),
    changedTrials: (studyId, since) =>
      Effect.sync(() => {
        const s = byId.get(studyId)
        if (!s) return { seq: since, trials: [] }
        // The first change after `since`, by bisection; each trial at its latest change (the entry
        // whose seq is the trial's own), so in the order of the changes.
        let lo = 0
        for (let hi = s.log.length; lo < hi;) {
          const mid = (lo + hi) >> 1
          if (s.log[mid].seq > since) hi = mid
          else lo = mid + 1
        }
        const trials: Array<FrozenTrial> = []
        for (let i = lo; i < s.log.length; i++) if (s.log[i].seq === s.log[i].trial.seq) trials.push(freeze(s.log[i].trial))
        return { seq: Math.max(since, s.seq), trials }
      }),
    close: Effect.void
  }
  return storage
}
