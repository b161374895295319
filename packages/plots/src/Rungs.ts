/**
 * Rung occupancy and promotions of successive halving, ASHA and Hyperband: for each rung (a
 * resource where trials are compared), the trials that reached it with their value there, and
 * what became of each: let past the rung (promoted), stopped there, paused there waiting for a
 * promotion, still running, or finished there.
 *
 * It reads what the schedulers of @tunekit/schedulers store: each trial's reports by step, and the
 * system attribute "tunekit.rung" (the number of rungs of its bracket the trial was let past), so
 * the plot follows a study of any storage and any number of workers. The rungs and brackets are
 * those the scheduler recorded in the study (`RungRecord` of @tunekit/schedulers), unless given.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import { Asha, RungRecord } from "@tunekit/schedulers"
import { InvalidPlot } from "./Errors.js"
import type { Source } from "./Source.js"

/** The system attribute where the rung schedulers keep how many rungs a trial was let past. */
export const RUNG = Asha.RUNG

/** What became of a trial at a rung. */
export type Outcome = "promoted" | "stopped" | "paused" | "running" | "completed" | "failed"

/** The outcomes, in the order the plot stacks them. */
export const outcomes: ReadonlyArray<Outcome> = ["promoted", "running", "paused", "completed", "stopped", "failed"]

/** A trial at a rung. */
export interface Member {
  readonly trial: number
  /** The step of its first report at or past the rung's resource, and the metric's value there. */
  readonly step: number
  readonly value: number
  readonly outcome: Outcome
}

/** One rung of one bracket. */
export interface Rung {
  readonly bracket: string
  /** The rung's index in its bracket (0 is the first, where every trial of the bracket is compared). */
  readonly index: number
  readonly resource: number
  /** The trials that reached it, best first. */
  readonly members: ReadonlyArray<Member>
  readonly counts: Readonly<Record<Outcome, number>>
}

/** The data of a rungs plot. */
export interface Data {
  readonly _tag: "Rungs"
  readonly metric: string
  readonly direction: Trial.Direction
  readonly brackets: ReadonlyArray<string>
  /** Bracket by bracket, lowest resource first. */
  readonly rungs: ReadonlyArray<Rung>
}

/** A trial's bracket: trials are compared within one, on its rungs. */
export interface Bracket {
  readonly key: string
  readonly rungs: ReadonlyArray<number>
}

/** Options of `make`. */
export interface Options {
  /**
   * The rungs' resources, lowest first (`Asha.rungs(options)` of @tunekit/schedulers gives them),
   * one bracket. Default: the rungs and brackets the scheduler recorded in the study.
   */
  readonly rungs?: ReadonlyArray<number>
  /** The metric compared at the rungs (default: the study's first objective). */
  readonly metric?: string
  /** Its direction (default: the study's first). */
  readonly direction?: Trial.Direction
  /**
   * With several brackets (ASHA's `brackets`, Hyperband), each trial's bracket
   * (`Hyperband.bracketOf(options)`). Default: one bracket on `rungs`, else the recorded ones. A
   * bracket without rungs (Hyperband's last) compares nothing and is left out.
   */
  readonly bracketOf?: (t: Trial.FrozenTrial) => Bracket
}

const fail = (reason: string): never => {
  throw new InvalidPlot({ plot: "rungs", reason })
}

const checkRungs = (rs: ReadonlyArray<number>, where: string) => {
  if (rs.length === 0 || !rs.every((r, i) => Number.isFinite(r) && r > 0 && (i === 0 || r > rs[i - 1]))) {
    fail(`${where} must be increasing positive numbers, got ${JSON.stringify(rs)}`)
  }
}

const markOf = (t: Trial.FrozenTrial) => {
  const v = t.systemAttrs[RUNG]
  return typeof v === "number" ? v : 0
}

/** The first report at or past a resource that has the metric. */
const atRung = (t: Trial.FrozenTrial, metric: string, resource: number) => {
  for (const m of t.intermediate) {
    const v = m.values[metric]
    if (m.step >= resource && v !== undefined && Number.isFinite(v)) return { step: m.step, value: v }
  }
  return undefined
}

const stateOutcome: Record<Trial.State, Outcome> = {
  Pruned: "stopped",
  Waiting: "paused",
  Running: "running",
  Complete: "completed",
  Failed: "failed"
}

/**
 * The rungs of a study run by a rung scheduler: the rungs and brackets it recorded in the study,
 * or those given.
 *
 * @example
 * import { Rungs, Source } from "@tunekit/plots"
 * import { Asha } from "@tunekit/schedulers"
 * declare const study: Source.Source
 * const recorded = Rungs.make(study) // as the scheduler recorded them (Source.load reads the record)
 * const data = Rungs.make(study, { rungs: Asha.rungs({ minResource: 1, maxResource: 27, reductionFactor: 3 }) })
 * data.rungs.map((r) => [r.resource, r.members.length, r.counts.promoted]) // [[1, 30, 10], [3, 10, 3], [9, 3, 1]]
 */
export const make = (source: Source, options: Options = {}): Data => {
  const recorded = options.rungs === undefined && options.bracketOf === undefined ? RungRecord.read(source.systemAttrs ?? {}) : undefined
  const metric = options.metric ?? source.objectives[0] ?? "value"
  const direction = options.direction ?? source.directions[0] ?? "minimize"
  const brackets = new Map<string, { rungs: ReadonlyArray<number>; members: Array<Array<Member>> }>()
  let bracketOf: (t: Trial.FrozenTrial) => Bracket
  if (options.bracketOf !== undefined) bracketOf = options.bracketOf
  else if (options.rungs !== undefined) {
    checkRungs(options.rungs, "rungs")
    const single: Bracket = { key: "0", rungs: options.rungs }
    bracketOf = () => single
    // One bracket shows its rungs even before any trial reaches them.
    brackets.set(single.key, { rungs: single.rungs, members: single.rungs.map(() => []) })
  } else if (recorded !== undefined) bracketOf = recorded.bracketOf
  else {
    return fail("the rung resources are not known: the study has no record of a rung scheduler (Asha, SuccessiveHalving and Hyperband layers record theirs) and none were given")
  }
  for (const t of [...source.trials].sort((a, b) => a.number - b.number)) {
    const b = bracketOf(t)
    if (b.rungs.length === 0) continue
    let entry = brackets.get(b.key)
    if (entry === undefined) {
      checkRungs(b.rungs, `the rungs of bracket ${b.key}`)
      entry = { rungs: b.rungs, members: b.rungs.map(() => []) }
      brackets.set(b.key, entry)
    }
    const last = t.intermediate.length === 0 ? -Infinity : t.intermediate[t.intermediate.length - 1].step
    entry.rungs.forEach((resource, k) => {
      const at = atRung(t, metric, resource)
      if (at === undefined) return
      // Let past the rung: marked so by the scheduler, or it trained beyond its report there.
      const passed = markOf(t) > k || last > at.step
      entry!.members[k].push({ trial: t.number, step: at.step, value: at.value, outcome: passed ? "promoted" : stateOutcome[t.state] })
    })
  }
  const sign = direction === "minimize" ? 1 : -1
  const rungs: Array<Rung> = []
  for (const [key, { rungs: rs, members }] of brackets) {
    rs.forEach((resource, index) => {
      const ms = members[index].sort((a, b) => sign * (a.value - b.value) || a.trial - b.trial)
      const counts = Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>
      for (const m of ms) counts[m.outcome]++
      rungs.push({ bracket: key, index, resource, members: ms, counts })
    })
  }
  return { _tag: "Rungs", metric, direction, brackets: [...brackets.keys()], rungs }
}
