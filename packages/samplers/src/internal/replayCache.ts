// A cache of replayed generations for samplers that rebuild their state from the history (CMA-ES,
// NSGA-II): one list per study (and relative space), reused while the history agrees with it.
import type { Trial } from "@tunekit/core"

/** The per-study lists of generations, bounded: a long-lived process may see many studies. */
export const make = <G>(limit = 64) => {
  const lists = new Map<string, Array<G>>()
  return (key: string): Array<G> => {
    let list = lists.get(key)
    if (list === undefined) {
      list = []
      if (lists.size >= limit) lists.delete(lists.keys().next().value!)
      lists.set(key, list)
    }
    return list
  }
}

/** Whether two fingerprints (objective values, say) are the same, NaN equal to NaN. */
export const sameNumbers = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false
  return true
}

const stateCode = { Waiting: 0, Running: 1, Complete: 2, Pruned: 3, Failed: 4 } as const

/**
 * The fingerprint of the generation of trial numbers [start, end): each trial's id, state and
 * values, to compare with a cached replay. Undefined while a trial of it is missing or unfinished.
 */
export const fingerprint = (
  byNumber: ReadonlyArray<Trial.FrozenTrial | undefined>,
  start: number,
  end: number
): Array<number> | undefined => {
  const out: Array<number> = []
  for (let k = start; k < end; k++) {
    const t = byNumber[k]
    if (t === undefined || t.state === "Running" || t.state === "Waiting") return undefined
    out.push(t.id, stateCode[t.state], ...(t.values ?? [NaN]))
  }
  return out
}
