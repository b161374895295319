// A cache of replayed generations for samplers that rebuild their state from the history (CMA-ES,
// NSGA-II): one list per study (and relative space), reused while the history agrees with it.

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
