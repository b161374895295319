// Population-based training, the pure part: who is in the population, when a member is due for a
// perturbation, the truncation selection and the explore step. Jaderberg et al. 2017, "Population
// Based Training of Neural Networks" (truncation selection + perturb/resample explore), with the
// defaults of Ray Tune's PopulationBasedTraining (quantile 0.25, factors 0.8/1.2, resampling 0.25).
//
// A member is a chain of trials: each exploit ends the member's current trial and continues the
// member in a new trial (its "segment") that starts from the donor's checkpoint. Every trial keeps
// the parameters that produced all of its metrics, and a finished trial never changes.
import { type Checkpoint, Distribution, type Rng, type Space, Study, type Trial } from "@tunekit/core"

/** How one parameter is explored. */
export interface Mutation {
  /** Multipliers of a float (and of a log-scale int); one is picked at random. Default [0.8, 1.2]. */
  readonly factors?: readonly [number, number]
  /** The probability of resampling the value from its distribution instead. Default: the scheduler's. */
  readonly resampleProbability?: number
}

export interface Options {
  /** Steps between two perturbations of a member (counted from the step its trial started at). */
  readonly perturbationInterval: number
  /**
   * The last step of training, when known: no member is exploited at or past it (a member that
   * has finished training is not replaced by a copy of its donor, and no continuation is created
   * with nothing left to train).
   */
  readonly maxStep?: number
  /** The parameters that move, and how (`true`: the defaults). Default: every parameter of the space. */
  readonly hyperparamMutations?: Readonly<Record<string, true | Mutation>>
  /** The fraction of the population in the bottom (exploits) and top (donors) quantiles. Default 0.25. */
  readonly quantileFraction?: number
  /** The probability that an explored value is resampled rather than perturbed. Default 0.25. */
  readonly resampleProbability?: number
  /** The default multipliers of floats. Default [0.8, 1.2]. */
  readonly perturbationFactors?: readonly [number, number]
  /** The metric that ranks members (default: the study's objective metric). */
  readonly metric?: string
  /** Its direction (default: the study's first direction). */
  readonly direction?: Trial.Direction
  /**
   * Synchronous PBT (Ray Tune's `synch=True`): every member waits at each boundary (every
   * `perturbationInterval` steps from step 0) until all living members reach it, then all are
   * decided together from their values there. Default false (asynchronous).
   */
  readonly synch?: boolean
  /** Synch: the number of members (the study's trials, summed over its workers). Required with `synch`. */
  readonly population?: number
  /**
   * Synch: how long a worker waits for the decisions of a boundary that another worker claimed,
   * in ms, before it takes the boundary over (that worker may have died deciding). Default 60,000.
   */
  readonly synchWaitMs?: number
}

/** The system attribute holding a continuation's lineage. */
export const LINEAGE = "pbt"
/** The system attribute set on an exploited trial: the number of the trial that continues it. */
export const NEXT = "pbtNext"

/** A change of one parameter: the donor's value and the explored one (external values). */
export interface Change {
  readonly from: Trial.Json
  readonly to: Trial.Json
}

/** What a continuation stores about where it comes from. */
export interface Lineage {
  /** The number of the member's first trial: the member's name. */
  readonly member: number
  /** How many exploits the member went through (1 for the first continuation). */
  readonly generation: number
  /** The trial this one continues (the member's previous trial, exploited). */
  readonly parent: number
  /** The step at which the parent was exploited. */
  readonly exploitedAt: number
  /** The trial whose checkpoint and parameters were copied. */
  readonly donor: number
  /** The donor's checkpoint step this trial starts from. */
  readonly step: number
  /** The explored parameters whose values differ from the donor's. */
  readonly changes: Readonly<Record<string, Change>>
}

export const lineageOf = (t: Trial.FrozenTrial): Lineage | undefined => {
  const l = t.systemAttrs[LINEAGE] as Lineage | undefined | null
  return l !== null && typeof l === "object" && typeof l.member === "number" ? l : undefined
}

export const memberOf = (t: Trial.FrozenTrial): number => lineageOf(t)?.member ?? t.number

/**
 * Where a trial's training started from: its restore point, else its lineage's (synch PBT clears a
 * continuation's restore point when it pauses, so that it resumes from its own checkpoint).
 */
export const restoreOf = (t: Trial.FrozenTrial): Checkpoint.RestorePoint | undefined => {
  const r = Study.restorePointOf(t)
  if (r !== undefined) return r
  const l = lineageOf(t)
  return l === undefined ? undefined : { trial: l.donor, step: l.step }
}

/** The step a trial's own training started from: its restore point, or 0. */
export const startOf = (t: Trial.FrozenTrial): number => restoreOf(t)?.step ?? 0

/**
 * Whether the report at `step` crosses a perturbation boundary of the trial: boundaries lie every
 * `interval` steps from the trial's start, and a trainer that reports sparsely still hits each one.
 */
export const isDue = (trial: Trial.FrozenTrial, step: number, interval: number): boolean => {
  const start = startOf(trial)
  let prev = start
  for (const m of trial.intermediate) if (m.step < step && m.step > prev) prev = m.step
  return step > start && Math.floor((step - start) / interval) > Math.floor((prev - start) / interval)
}

export interface Scored {
  readonly trial: Trial.FrozenTrial
  readonly score: number
}

/**
 * The live population, ranked worst first: for each member, its latest trial when that one is
 * running (or waiting to), scored by the last reported value of the metric. Members without a
 * report in their current trial are left out, as are finished members.
 */
export const rank = (
  history: ReadonlyArray<Trial.FrozenTrial>,
  current: Trial.FrozenTrial,
  metric: string,
  direction: Trial.Direction
): ReadonlyArray<Scored> => {
  const latest = new Map<number, Trial.FrozenTrial>()
  const consider = (t: Trial.FrozenTrial) => {
    const m = memberOf(t)
    const prev = latest.get(m)
    if (prev === undefined || prev.number <= t.number) latest.set(m, t)
  }
  for (const t of history) if (t.number !== current.number) consider(t)
  consider(current)
  const out: Array<Scored> = []
  for (const t of latest.values()) {
    if (t.state !== "Running" && t.state !== "Waiting") continue
    let score: number | undefined
    for (let i = t.intermediate.length - 1; i >= 0 && score === undefined; i--) score = t.intermediate[i].values[metric]
    if (score !== undefined && Number.isFinite(score)) out.push({ trial: t, score })
  }
  const sign = direction === "minimize" ? -1 : 1
  // Worst first; ties broken by trial number so that the order is a function of the history.
  return out.sort((a, b) => sign * (a.score - b.score) || a.trial.number - b.trial.number)
}

/** The bottom and top quantiles of a ranked population (Ray Tune's rule: at most half each). */
export const quantiles = <A>(ranked: ReadonlyArray<A>, fraction: number): { readonly bottom: ReadonlyArray<A>; readonly top: ReadonlyArray<A> } => {
  const n = ranked.length
  if (n < 2) return { bottom: [], top: [] }
  const k = Math.min(Math.ceil(n * fraction), Math.floor(n / 2))
  return { bottom: ranked.slice(0, k), top: ranked.slice(n - k) }
}

/** One explored internal value, always inside the distribution. */
export const exploreValue = (
  d: Distribution.Distribution,
  value: number,
  rng: Rng.Generator,
  factors: readonly [number, number],
  resampleProbability: number
): number => {
  if (rng.next() < resampleProbability) return Distribution.fromUnit(d, rng.next())
  const up = rng.next() < 0.5
  switch (d._tag) {
    case "Categorical":
      return Distribution.snap(d, value + (up ? 1 : -1))
    case "Int": {
      if (!d.log) return Distribution.snap(d, value + (up ? d.step : -d.step))
      // A log-scale int moves by a factor, and by at least one step.
      const moved = Distribution.snap(d, Math.round(value * (up ? factors[1] : factors[0])))
      return moved !== value ? moved : Distribution.snap(d, value + (up ? d.step : -d.step))
    }
    case "Float":
      return Distribution.snap(d, value * (up ? factors[1] : factors[0]))
  }
}

export interface Explored {
  /** Internal values of the new config: the donor's, explored where the mutations say. */
  readonly params: Readonly<Record<string, number>>
  readonly distributions: Readonly<Record<string, Distribution.Distribution>>
  readonly changes: Readonly<Record<string, Change>>
}

/**
 * The donor's config, explored. The space is walked again, so that a branch that changes brings in
 * its own parameters (sampled at random) and drops the old case's.
 */
export const explore = (
  space: Space.Compiled<unknown>,
  donor: Trial.FrozenTrial,
  options: Options,
  rng: Rng.Generator
): Explored => {
  const mutations = options.hyperparamMutations
  const factors = options.perturbationFactors ?? [0.8, 1.2]
  const resample = options.resampleProbability ?? 0.25
  const changes: Record<string, Change> = {}
  const distributions: Record<string, Distribution.Distribution> = {}
  const { params } = space.build((name, d) => {
    distributions[name] = d
    const own = donor.params[name]
    const has = own !== undefined && Distribution.contains(d, own)
    const m = mutations === undefined ? true : mutations[name]
    let v: number
    if (!has) v = Distribution.fromUnit(d, rng.next())
    else if (m === undefined) v = own
    else {
      const mm = m === true ? {} : m
      v = exploreValue(d, own, rng, mm.factors ?? factors, mm.resampleProbability ?? resample)
    }
    if (!has || v !== own) {
      changes[name] = {
        from: has ? (Distribution.toExternal(d, own) as Trial.Json) : null,
        to: Distribution.toExternal(d, v) as Trial.Json
      }
    }
    return v
  })
  return { params, distributions, changes }
}

export interface Plan {
  readonly donor: Trial.FrozenTrial
  /** Members of the top quantile, best last; the donor is one of them. */
  readonly top: ReadonlyArray<Trial.FrozenTrial>
  readonly explored: Explored
}

/**
 * What PBT does with a trial reporting at `step`: undefined (go on), or exploit a donor drawn from
 * the top quantile and explore its config. A function of the history and the generator only.
 */
export const plan = (input: {
  readonly options: Options
  readonly space: Space.Compiled<unknown>
  readonly history: ReadonlyArray<Trial.FrozenTrial>
  readonly trial: Trial.FrozenTrial
  readonly step: number
  readonly metric: string
  readonly direction: Trial.Direction
  readonly rng: Rng.Generator
}): Plan | undefined => {
  const { options, trial } = input
  if (options.maxStep !== undefined && input.step >= options.maxStep) return undefined
  if (!isDue(trial, input.step, options.perturbationInterval)) return undefined
  const ranked = rank(input.history, trial, input.metric, input.direction)
  const { bottom, top } = quantiles(ranked, options.quantileFraction ?? 0.25)
  if (!bottom.some((s) => s.trial.number === trial.number)) return undefined
  const donor = top[input.rng.int(top.length)].trial
  return { donor, top: top.map((s) => s.trial), explored: explore(input.space, donor, options, input.rng) }
}

// Synchronous PBT (Ray Tune's `synch=True`): the boundaries are the same steps for every member,
// every `interval` steps from step 0; a member waits at each until every living member has reached
// it, and the decisions at a boundary are a function of the members' values there and of the seed.

/** The index of the last boundary at or before `step` (boundary k is step k * interval). */
export const boundaryIndex = (step: number, interval: number): number => Math.floor(step / interval)

/**
 * The boundary a trial had reached before its report at `step` (all of them when undefined): its
 * last earlier report's, and at least the one it was created at (a continuation is created at its
 * parent's boundary, from a checkpoint at or before it).
 */
export const reachedBefore = (t: Trial.FrozenTrial, interval: number, step = Infinity): number => {
  let last = startOf(t)
  for (const m of t.intermediate) if (m.step < step && m.step > last) last = m.step
  const l = lineageOf(t)
  return Math.max(boundaryIndex(last, interval), l === undefined ? 0 : boundaryIndex(l.exploitedAt, interval))
}

/** The boundary a report at `step` crosses (a positive index), or undefined. */
export const crossing = (t: Trial.FrozenTrial, step: number, interval: number): number | undefined => {
  const k = boundaryIndex(step, interval)
  return k > reachedBefore(t, interval, step) ? k : undefined
}

/** The population: the study's first `size` members (by number), each with its latest trial. */
export const populationOf = (
  history: ReadonlyArray<Trial.FrozenTrial>,
  size: number
): { readonly complete: boolean; readonly members: ReadonlyMap<number, Trial.FrozenTrial> } => {
  const latest = new Map<number, Trial.FrozenTrial>()
  for (const t of history) {
    const m = memberOf(t)
    const prev = latest.get(m)
    if (prev === undefined || prev.number < t.number) latest.set(m, t)
  }
  const first = [...latest.keys()].sort((a, b) => a - b).slice(0, size)
  return { complete: latest.size >= size, members: new Map(first.map((m) => [m, latest.get(m)!])) }
}

/** A member at a boundary: its trial there, and its value of the metric at its first report at or past it. */
export interface AtBoundary {
  readonly member: number
  readonly trial: Trial.FrozenTrial
  readonly score: number | undefined
}

/**
 * The members at boundary k when every living one has reached it; undefined while one has not.
 * A member whose latest trial has ended (completed, failed, pruned other than by an exploit) has
 * left the population.
 */
export const arrivedAt = (
  members: ReadonlyMap<number, Trial.FrozenTrial>,
  k: number,
  interval: number,
  metric: string
): ReadonlyArray<AtBoundary> | undefined => {
  const out: Array<AtBoundary> = []
  for (const [member, t] of members) {
    if (t.state !== "Running" && t.state !== "Waiting") continue
    if (reachedBefore(t, interval) < k) return undefined
    const at = t.intermediate.find((m) => m.step >= k * interval)
    out.push({ member, trial: t, score: at?.values[metric] })
  }
  return out.sort((a, b) => a.member - b.member)
}

/** An exploit decided at a boundary. */
export interface BoundaryExploit {
  readonly member: number
  readonly trial: Trial.FrozenTrial
  readonly donor: Trial.FrozenTrial
  readonly explored: Explored
}

/**
 * The exploits at a boundary, in member order: the bottom quantile of the scored members (ties
 * broken by member) exploits a donor drawn from the top quantile, with a generator of its own
 * (`rngOf(member)`). A function of the set of members and their values, never of their order.
 */
export const boundaryPlan = (input: {
  readonly options: Options
  readonly space: Space.Compiled<unknown>
  readonly members: ReadonlyArray<AtBoundary>
  readonly direction: Trial.Direction
  readonly rngOf: (member: number) => Rng.Generator
}): ReadonlyArray<BoundaryExploit> => {
  const sign = input.direction === "minimize" ? -1 : 1
  const scored = input.members.filter((m): m is AtBoundary & { score: number } => m.score !== undefined && Number.isFinite(m.score))
  const ranked = [...scored].sort((a, b) => sign * (a.score - b.score) || a.member - b.member)
  const { bottom, top } = quantiles(ranked, input.options.quantileFraction ?? 0.25)
  return [...bottom].sort((a, b) => a.member - b.member).map((m) => {
    const rng = input.rngOf(m.member)
    const donor = top[rng.int(top.length)].trial
    return { member: m.member, trial: m.trial, donor, explored: explore(input.space, donor, input.options, rng) }
  })
}

/** The reason stored on an exploited trial. */
export const exploitReason = (l: Lineage, next: number): string => {
  const changed = Object.entries(l.changes).map(([k, c]) => `${k} ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`)
  return `pbt: in the bottom quantile at step ${l.exploitedAt}; exploited trial ${l.donor} (checkpoint of step ${l.step})` +
    `${changed.length ? `, explored ${changed.join(", ")}` : ""}; continues as trial ${next}`
}
