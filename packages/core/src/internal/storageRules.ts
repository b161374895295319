// Rules that every storage backend applies the same way.
import * as Distribution from "../Distribution.js"
import { InvalidSpace, StudyMismatch, TrialStateError } from "../Errors.js"
import type { SampledParams, TrialInit } from "../Storage.js"
import type { Direction, FrozenTrial, State } from "../Trial.js"

/** Fails when a parameter name is already used in the study with another distribution. */
export const checkCompatible = (
  known: ReadonlyMap<string, Distribution.Distribution>,
  distributions: Readonly<Record<string, Distribution.Distribution>>
): InvalidSpace | undefined => {
  for (const [name, d] of Object.entries(distributions)) {
    const prev = known.get(name)
    if (prev !== undefined && !Distribution.equals(prev, d)) {
      return new InvalidSpace({
        param: name,
        reason: `already used in this study as ${Distribution.describe(prev)}, now asked as ${Distribution.describe(d)}`
      })
    }
  }
  return undefined
}

export const checkDirections = (
  name: string,
  stored: ReadonlyArray<Direction>,
  asked: ReadonlyArray<Direction>
): StudyMismatch | undefined =>
  stored.length === asked.length && stored.every((d, i) => d === asked[i])
    ? undefined
    : new StudyMismatch({ study: name, reason: `it exists with directions [${stored.join(", ")}], not [${asked.join(", ")}]` })

/**
 * The states a read asks for, when they are only those a trial passes through (Running,
 * Waiting): few trials at any time, each state in a partial index, so the read takes them
 * directly rather than through the history cache (which would decode every trial changed since
 * its last read: a worker's stop watch, once a second, decoded every trial of the study).
 */
export const fewStates = (states: ReadonlyArray<State> | undefined): ReadonlyArray<"Running" | "Waiting"> | undefined =>
  states !== undefined && states.length > 0 && states.every((s) => s === "Running" || s === "Waiting")
    ? [...new Set(states as ReadonlyArray<"Running" | "Waiting">)].sort()
    : undefined

export const notRunning = (trialNumber: number, state: State, operation: string): TrialStateError =>
  new TrialStateError({ trial: trialNumber, reason: `cannot ${operation}: the trial is ${state}, not Running` })

/**
 * The params a trial created with `init` keeps when it gets `number`: those sampled for that
 * number, or none when it was sampled for none of them (then it is created bare).
 */
export const sampledFor = (init: TrialInit, number: number): SampledParams | undefined => {
  const offset = init.expectedNumber === undefined ? 0 : number - init.expectedNumber
  if (offset === 0) return { params: init.params ?? {}, distributions: init.distributions ?? {} }
  return offset > 0 && init.claim === undefined ? init.later?.[offset - 1] : undefined
}

/**
 * The trials finishes made for their workers (`TrialEnd.next`), by study and worker, until the
 * worker's next claim takes them (oldest first).
 */
export class Handed {
  private readonly byKey = new Map<string, Array<FrozenTrial>>()
  put(studyId: number, worker: string, trial: FrozenTrial): void {
    const key = `${studyId}\u0000${worker}`
    const list = this.byKey.get(key)
    if (list) list.push(trial)
    else this.byKey.set(key, [trial])
  }
  take(studyId: number, worker: string): FrozenTrial | undefined {
    const key = `${studyId}\u0000${worker}`
    const list = this.byKey.get(key)
    const t = list?.shift()
    if (list?.length === 0) this.byKey.delete(key)
    return t
  }
  /** Forgets a study's (deleted). */
  drop(studyId: number): void {
    for (const key of this.byKey.keys()) if (key.startsWith(`${studyId}\u0000`)) this.byKey.delete(key)
  }
}
