// Rungs, brackets and the decisions of successive halving (Jamieson & Talwalkar 2016), ASHA
// (Li et al. 2020, "A System for Massively Parallel Hyperparameter Tuning", Algorithms 1-2) and
// Hyperband (Li et al. 2018, JMLR 18(185), Algorithm 1), as pure functions of the stored trials.
//
// A rung is a resource (a step) where trials are compared. Stopping ASHA decides from the values
// recorded at the rung alone and writes nothing. The schedulers that pause (promotion ASHA,
// successive halving, Hyperband) keep how far a trial may train in storage, in its system
// attribute KEY: the index of the rung it was let past, plus one. That is what lets concurrent
// trials and workers on one storage count the trials already let past a rung.
import { Scheduler, Study } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import type { Input, Objective } from "../Pruner.js"
import { isRungOptions } from "./rungOptions.js"
import { better, fmt, valueOf } from "./series.js"

export const KEY = "tunekit.rung"

/**
 * The study system attribute where a rung scheduler records itself (its name and decoded options)
 * the first time it decides, so that plots can rebuild its rungs and brackets from the study.
 */
export const RECORD = "tunekit.rungs"

export interface RungOptions {
  /** The first rung: the resource every trial gets (grace period). */
  readonly minResource: number
  /** The resource of a trial that runs to the end (max_t). */
  readonly maxResource: number
  /** eta: one in `reductionFactor` trials goes on at each rung (default 3). */
  readonly reductionFactor?: number
}

export const etaOf = (o: RungOptions) => o.reductionFactor ?? 3

/** The rungs where trials are compared: minResource * eta^k below maxResource. */
export const levels = (o: RungOptions): Array<number> => {
  const out: Array<number> = []
  const eta = etaOf(o)
  if (!isRungOptions(o)) return out
  for (let r = o.minResource; r < o.maxResource * (1 - 1e-12); r *= eta) out.push(r)
  return out
}

/**
 * Hyperband's rungs (Li et al. 2018, Algorithm 1): with R = maxResource / minResource in units of
 * minResource, s_max = floor(log_eta(R)), and bracket s starts at maxResource * eta^-s, so the
 * rungs are maxResource * eta^-k for k = s_max ... 1, anchored at maxResource. They are
 * `levels` when R is a power of eta; otherwise the first rung lies between minResource and
 * eta * minResource, and there is one bracket fewer than `levels` would give (R = 50 / 1 with
 * eta 3: s_max 3, rungs 50/27, 50/9, 50/3, not 1, 3, 9, 27 and s_max 4). With whole-number
 * resources (steps, epochs) a rung is rounded up to a whole step: the first step at or past a
 * rung is where trials are compared anyway, and a bracket's plan then counts the steps trained.
 */
export const hyperbandLevels = (o: RungOptions): Array<number> => {
  const out: Array<number> = []
  if (!isRungOptions(o)) return out
  const eta = etaOf(o)
  const sMax = Math.floor(Math.log(o.maxResource / o.minResource) / Math.log(eta) + 1e-9)
  const whole = Number.isInteger(o.minResource) && Number.isInteger(o.maxResource)
  for (let k = sMax; k >= 1; k--) {
    const r = o.maxResource / eta ** k
    out.push(whole ? Math.max(o.minResource, Math.ceil(r * (1 - 1e-12))) : r)
  }
  return out
}

/** A group of trials compared with one another, on some of the rungs. */
export interface Bracket {
  /** Trials of the same bracket have the same key. */
  readonly key: string
  readonly rungs: ReadonlyArray<number>
  /** For synchronous brackets: the trial numbers in it. */
  readonly members?: { readonly start: number; readonly size: number }
}

/** Sizes of the rungs of a synchronous bracket of n configurations. */
export const sizes = (n: number, rungs: number, eta: number): Array<number> => {
  const out = [n]
  for (let i = 0; i < rungs; i++) out.push(Math.max(1, Math.floor(out[i] / eta)))
  return out
}

/** The steps a synchronous bracket spends: each survivor trains from the last rung to the next. */
export const bracketSteps = (n: number, rungs: ReadonlyArray<number>, max: number, eta: number): number => {
  const ns = sizes(n, rungs.length, eta)
  const rs = [...rungs, max]
  let total = 0
  for (let i = 0; i < rs.length; i++) total += ns[i] * (rs[i] - (i === 0 ? 0 : rs[i - 1]))
  return total
}

// ---------------------------------------------------------------------------------------------
// Reading the trials

const markOf = (t: Trial.FrozenTrial): number => {
  const v = t.systemAttrs[KEY]
  return typeof v === "number" ? v : 0
}

/** The first reported step at or above `resource`, with the objective's value there. */
const atRung = (t: Trial.FrozenTrial, name: string, resource: number): { step: number; value: number } | undefined => {
  for (const m of t.intermediate) {
    if (m.step >= resource) {
      const v = valueOf(m, name)
      return v === undefined ? undefined : { step: m.step, value: v }
    }
  }
  return undefined
}

const lastStep = (t: Trial.FrozenTrial) => (t.intermediate.length === 0 ? -Infinity : t.intermediate[t.intermediate.length - 1].step)

/** Whether `t` was let past rung k: marked so, or it reported beyond its value at the rung. */
const passed = (t: Trial.FrozenTrial, name: string, rungs: ReadonlyArray<number>, k: number): boolean => {
  if (markOf(t) > k) return true
  const at = atRung(t, name, rungs[k])
  return at !== undefined && lastStep(t) > at.step
}

/** The trials merged with the fresh copy of the one deciding (its stored mark may be newer). */
const withFresh = (history: ReadonlyArray<Trial.FrozenTrial>, trial: Trial.FrozenTrial): Array<Trial.FrozenTrial> => {
  let found = false
  const out = history.map((t) => {
    if (t.id !== trial.id) return t
    found = true
    const mark = Math.max(markOf(t), markOf(trial))
    return { ...trial, systemAttrs: { ...t.systemAttrs, ...trial.systemAttrs, [KEY]: mark } }
  })
  if (!found) out.push(trial)
  return out
}

interface Ranked {
  readonly trial: Trial.FrozenTrial
  readonly value: number
}

/** Whether `a` ranks before `b`: a better value (NaN is worst), or the same and a smaller trial number. */
const before = (a: Ranked, b: Ranked, direction: Trial.Direction): boolean =>
  better(a.value, b.value, direction) || (!better(b.value, a.value, direction) && a.trial.number < b.trial.number)

/** Best first; NaN last; ties by trial number, so that the order never depends on the history's. */
const rank = (xs: Array<Ranked>, direction: Trial.Direction): Array<Ranked> =>
  xs.sort((a, b) => (before(a, b, direction) ? -1 : before(b, a, direction) ? 1 : 0))

const rungMembers = (trials: ReadonlyArray<Trial.FrozenTrial>, name: string, resource: number): Array<Ranked> => {
  const out: Array<Ranked> = []
  for (const t of trials) {
    const at = atRung(t, name, resource)
    if (at !== undefined) out.push({ trial: t, value: at.value })
  }
  return out
}

/** The rung the report at `step` crosses (the highest one), if any. */
const crossing = (t: Trial.FrozenTrial, step: number, rungs: ReadonlyArray<number>): number | undefined => {
  let prev = -Infinity
  for (const m of t.intermediate) if (m.step < step && m.step > prev) prev = m.step
  for (let k = rungs.length - 1; k >= 0; k--) if (prev < rungs[k] && rungs[k] <= step) return k
  return undefined
}

/** The highest rung a trial has reached. */
const rungReached = (t: Trial.FrozenTrial, rungs: ReadonlyArray<number>): number => {
  const s = lastStep(t)
  let k = -1
  while (k + 1 < rungs.length && rungs[k + 1] <= s) k++
  return k
}

/** Stored Waiting after training some steps: paused by a rung scheduler (not enqueued, not a continuation). */
export const isPaused = (t: Trial.FrozenTrial) => t.state === "Waiting" && t.intermediate.length > 0 && t.systemAttrs[Study.RESTORE_FROM] === undefined

/**
 * A place past a rung that must be claimed in storage before a trial takes it: one of the keys
 * `${key}:${i}` for i in [from, quota). Workers of several processes decide from histories read
 * at different times; the claim is what keeps them from letting more than the quota past.
 */
export interface Place {
  readonly key: string
  readonly from: number
  readonly quota: number
  /** The decision when every place is taken. */
  readonly fallback: Scheduler.Decision
}

export interface Outcome {
  readonly decision: Scheduler.Decision
  /** A new mark to store on the deciding trial. */
  readonly mark?: number
  /** The place to claim before the decision and the mark stand. */
  readonly place?: Place
}

export interface ResumePlan {
  readonly resume?: { readonly id: number; readonly mark: number; readonly place?: Place }
  /** Paused trials that lost their rung: to be stored as Pruned. */
  readonly retire: ReadonlyArray<{ readonly id: number; readonly reason: string; readonly value: number }>
}

export interface Core {
  /** Whether a report crosses a rung (only those need the history). */
  readonly crosses: (trial: Trial.FrozenTrial, metric: Trial.Metric) => boolean
  readonly decide: (input: Input) => Outcome
  /**
   * Whether decisions store marks and claim places. A process then takes them one at a time, so
   * that two of its trials never both take the last place; decisions that only read need no lock.
   */
  readonly writes: boolean
  readonly resume?: (history: ReadonlyArray<Trial.FrozenTrial>, objective: Objective) => ResumePlan
  /** The resource of the highest rung of its bracket a trial has reached (where it paused), if any. */
  readonly rungOf: (trial: Trial.FrozenTrial) => number | undefined
  /** A trial's bracket: the trials it is compared with, on which rungs. */
  readonly bracketOf: (trial: Trial.FrozenTrial) => Bracket
}

const next = (rungs: ReadonlyArray<number>, k: number, max: number) => (k + 1 < rungs.length ? rungs[k + 1] : max)

const continueOutcome: Outcome = { decision: Scheduler.Continue }

const rungOfWith = (bracketOf: (t: Trial.FrozenTrial) => Bracket) => (t: Trial.FrozenTrial) => {
  const b = bracketOf(t)
  const k = rungReached(t, b.rungs)
  return k < 0 ? undefined : b.rungs[k]
}

/**
 * The bracket and the rung k that this metric crosses; with `marked`, only when the trial's mark
 * does not say it was let past that rung already.
 */
const rungCrossed = (bracketOf: (t: Trial.FrozenTrial) => Bracket, trial: Trial.FrozenTrial, metric: Trial.Metric, marked = true) => {
  const b = bracketOf(trial)
  const k = crossing(trial, metric.step, b.rungs)
  return k === undefined || (marked && markOf(trial) > k) ? undefined : { b, k }
}

const crossesWith = (bracketOf: (t: Trial.FrozenTrial) => Bracket, marked = true) => (trial: Trial.FrozenTrial, metric: Trial.Metric) =>
  rungCrossed(bracketOf, trial, metric, marked) !== undefined

// ---------------------------------------------------------------------------------------------
// ASHA

/**
 * Stopping ASHA (the early-stopping form of Li et al. 2020's ASHA, with the rule of Optuna's
 * SuccessiveHalvingPruner): a trial that reaches rung r goes on when its value there is among the
 * best max(1, floor(k/eta)) of the k values recorded at r so far, its own included; otherwise it is
 * pruned. Ties rank by trial number, as `rank` does. Nothing caps how many go on: a better trial
 * that reaches the rung later is never kept out by earlier ones (issue 4's "never more than
 * ceil(n/eta) past a rung" was the cause of that, and is not a law of this variant).
 *
 * The values recorded at r are the first report at or past r of every trial of the bracket that has
 * one (whatever its state), NaN left out; a NaN of its own prunes the trial (a diverged run), as in
 * Optuna; a report without the objective's metric is not judged. The decision reads nothing else
 * (no marks, no states, no order), so it needs no writes and no claims.
 */
const stopping = (name: string, o: RungOptions, bracketOf: (t: Trial.FrozenTrial) => Bracket): Core => {
  const eta = etaOf(o)
  return {
    writes: false,
    bracketOf,
    crosses: crossesWith(bracketOf, false),
    rungOf: rungOfWith(bracketOf),
    decide: ({ history, metric, objective, trial }) => {
      const crossed = rungCrossed(bracketOf, trial, metric, false)
      if (crossed === undefined) return continueOutcome
      const { b, k } = crossed
      const resource = b.rungs[k]
      const own = atRung(trial, objective.metric, resource)
      if (own === undefined) return continueOutcome
      if (Number.isNaN(own.value)) {
        return { decision: Scheduler.Decision.Prune({ reason: `${name}: ${objective.metric} is NaN at rung ${fmt(resource)}` }) }
      }
      const me: Ranked = { trial, value: own.value }
      let count = 1
      let position = 1
      for (const t of history) {
        if (t.id === trial.id || bracketOf(t).key !== b.key) continue
        const at = atRung(t, objective.metric, resource)
        if (at === undefined || Number.isNaN(at.value)) continue
        count++
        if (before({ trial: t, value: at.value }, me, objective.direction)) position++
      }
      const keep = Math.max(1, Math.floor(count / eta))
      if (position <= keep) return continueOutcome
      return { decision: Scheduler.Decision.Prune({ reason: `${name}: ranks ${position} of ${count} at rung ${fmt(resource)}, outside the top ${keep}` }) }
    }
  }
}

/**
 * Promotion ASHA (Li et al. 2020, Algorithm 2): a trial pauses at each rung, and is promoted
 * (resumed) when it is in the top floor(n/eta) of the n trials that reached the rung and fewer
 * than floor(n/eta) were promoted; each promotion claims one of those places in storage, so that
 * workers in several processes never promote more. Resumption prefers the highest rung.
 */
const promotion = (o: RungOptions, bracketOf: (t: Trial.FrozenTrial) => Bracket): Core => {
  const eta = etaOf(o)
  const state = (trials: ReadonlyArray<Trial.FrozenTrial>, me: Trial.FrozenTrial, b: Bracket, k: number, objective: Objective) => {
    const peers = trials.filter((t) => t.id === me.id || bracketOf(t).key === b.key)
    const members = rank(rungMembers(peers, objective.metric, b.rungs[k]), objective.direction)
    const quota = Math.floor(members.length / eta)
    const gone = members.filter((m) => m.trial.id !== me.id && passed(m.trial, objective.metric, b.rungs, k)).length
    const position = members.findIndex((m) => m.trial.id === me.id) + 1
    return { quota, gone, ok: position >= 1 && position <= quota && gone < quota }
  }
  const placeOf = (b: Bracket, k: number, s: { readonly gone: number; readonly quota: number }): Place => ({
    key: `${b.key}:rung${k}`,
    from: s.gone,
    quota: s.quota,
    fallback: Scheduler.Decision.Pause()
  })
  const resume = (history: ReadonlyArray<Trial.FrozenTrial>, objective: Objective): ResumePlan => {
    // Highest rung first (Algorithm 2's get_job); within a rung, the best-ranked candidate.
    let pick: { id: number; mark: number; resource: number; value: number; number: number; place: Place } | undefined
    for (const t of history) {
      if (!isPaused(t)) continue
      const b = bracketOf(t)
      const k = rungReached(t, b.rungs)
      if (k < 0 || markOf(t) > k) continue
      const s = state(history, t, b, k, objective)
      if (!s.ok) continue
      const value = atRung(t, objective.metric, b.rungs[k])!.value
      const cand = { id: t.id, mark: k + 1, resource: b.rungs[k], value, number: t.number, place: placeOf(b, k, s) }
      if (
        pick === undefined || cand.resource > pick.resource ||
        (cand.resource === pick.resource && (better(value, pick.value, objective.direction) || (value === pick.value && t.number < pick.number)))
      ) pick = cand
    }
    return { retire: [], ...(pick ? { resume: { id: pick.id, mark: pick.mark, place: pick.place } } : {}) }
  }
  return {
    writes: true,
    bracketOf,
    crosses: crossesWith(bracketOf),
    rungOf: rungOfWith(bracketOf),
    decide: ({ history, metric, objective, trial }) => {
      const crossed = rungCrossed(bracketOf, trial, metric)
      if (crossed === undefined) return continueOutcome
      const { b, k } = crossed
      const trials = withFresh(history, trial)
      const me = trials.find((t) => t.id === trial.id)!
      const s = state(trials, me, b, k, objective)
      if (!s.ok) return { decision: Scheduler.Decision.Pause() }
      return { decision: Scheduler.Decision.Promote({ toStep: next(b.rungs, k, o.maxResource) }), mark: k + 1, place: placeOf(b, k, s) }
    },
    resume
  }
}

/** ASHA in one of its two variants (see `stopping` and `promotion`). */
export const asha = (
  name: string,
  o: RungOptions,
  mode: "stopping" | "promotion",
  bracketOf: (t: Trial.FrozenTrial) => Bracket
): Core => (mode === "stopping" ? stopping(name, o, bracketOf) : promotion(o, bracketOf))

// ---------------------------------------------------------------------------------------------
// Synchronous successive halving, in brackets of known members (SH and Hyperband)

/**
 * Successive halving in synchronous brackets: a trial pauses at each rung until every trial of
 * its bracket has reached it (or finished); then the best max(1, floor(n/eta)) go on and the
 * others are pruned, so a bracket spends exactly the steps its plan says.
 */
export const synchronous = (name: string, o: RungOptions, bracketOf: (t: Trial.FrozenTrial) => Bracket): Core => {
  const eta = etaOf(o)
  const inBracket = (t: Trial.FrozenTrial, b: Bracket) =>
    b.members !== undefined && t.number >= b.members.start && t.number < b.members.start + b.members.size
  /** The verdict of rung k of a bracket, once every member has reached it or finished. */
  const verdict = (trials: ReadonlyArray<Trial.FrozenTrial>, b: Bracket, k: number, objective: Objective) => {
    const ns = sizes(b.members!.size, b.rungs.length, eta)
    const members = trials.filter((t) => inBracket(t, b) && (k === 0 || markOf(t) >= k))
    if (members.length < ns[k]) return undefined
    const valued: Array<Ranked> = []
    for (const t of members) {
      const at = atRung(t, objective.metric, b.rungs[k])
      if (at !== undefined) valued.push({ trial: t, value: at.value })
      else if (t.state === "Running" || t.state === "Waiting") return undefined
    }
    const ranked = rank(valued, objective.direction)
    const keep = ns[k + 1]
    return { ranked, keep, winners: new Set(ranked.slice(0, keep).map((r) => r.trial.id)) }
  }
  const lost = (position: number, n: number, keep: number, resource: number) =>
    `${name}: ranks ${position} of ${n} at rung ${fmt(resource)}, outside the top ${keep}`
  return {
    writes: true,
    bracketOf,
    crosses: crossesWith(bracketOf),
    rungOf: rungOfWith(bracketOf),
    decide: ({ history, metric, objective, trial }) => {
      const crossed = rungCrossed(bracketOf, trial, metric)
      if (crossed === undefined) return continueOutcome
      const { b, k } = crossed
      const trials = withFresh(history, trial)
      const v = verdict(trials, b, k, objective)
      if (v === undefined) return { decision: Scheduler.Decision.Pause() }
      if (v.winners.has(trial.id)) return { decision: Scheduler.Decision.Promote({ toStep: next(b.rungs, k, o.maxResource) }), mark: k + 1 }
      const position = v.ranked.findIndex((r) => r.trial.id === trial.id) + 1
      return { decision: Scheduler.Decision.Prune({ reason: lost(position, v.ranked.length, v.keep, b.rungs[k]) }) }
    },
    resume: (history, objective) => {
      const retire: Array<{ id: number; reason: string; value: number }> = []
      let pick: { id: number; mark: number } | undefined
      const verdicts = new Map<string, ReturnType<typeof verdict>>()
      for (const t of history) {
        if (!isPaused(t)) continue
        const b = bracketOf(t)
        const k = rungReached(t, b.rungs)
        if (k < 0 || markOf(t) > k) continue
        const key = `${b.key}/${k}`
        if (!verdicts.has(key)) verdicts.set(key, verdict(history, b, k, objective))
        const v = verdicts.get(key)
        if (v === undefined) continue
        if (v.winners.has(t.id)) pick ??= { id: t.id, mark: k + 1 }
        else {
          const position = v.ranked.findIndex((r) => r.trial.id === t.id) + 1
          retire.push({ id: t.id, reason: lost(position, v.ranked.length, v.keep, b.rungs[k]), value: v.ranked[position - 1].value })
        }
      }
      return { retire, ...(pick ? { resume: pick } : {}) }
    }
  }
}
