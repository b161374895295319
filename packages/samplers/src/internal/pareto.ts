// Pareto utilities on minimization vectors: dominance, fast non-dominated sorting and crowding
// distance, after Deb, Pratap, Agarwal and Meyarivan (2002), "A fast and elitist multiobjective
// genetic algorithm: NSGA-II", IEEE TEC 6(2), sections III-A and III-B.
import type { Trial } from "@tunekit/core"

type Direction = Trial.Direction

/** Whether `a` dominates `b` when every objective is minimized. */
export const dominates = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
  let better = false
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false
    if (a[i] < b[i]) better = true
  }
  return better
}

/** Values turned into a minimization vector (maximized objectives negated). */
export const toMinimization = (values: ReadonlyArray<number>, directions: ReadonlyArray<Direction>): Array<number> =>
  values.map((v, i) => (directions[i] === "maximize" ? -v : v))

/**
 * Fast non-dominated sorting: the fronts, best first, each a list of indices into `points`.
 * O(M N^2) for N points and M objectives, as in Deb et al. (2002).
 */
export const nonDominatedSort = (points: ReadonlyArray<ArrayLike<number>>): Array<Array<number>> => {
  const n = points.length
  const dominatedBy = new Int32Array(n) // how many points dominate i
  const dominating: Array<Array<number>> = Array.from({ length: n }, () => [])
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i], points[j])) {
        dominating[i].push(j)
        dominatedBy[j]++
      } else if (dominates(points[j], points[i])) {
        dominating[j].push(i)
        dominatedBy[i]++
      }
    }
  }
  const fronts: Array<Array<number>> = []
  let current: Array<number> = []
  for (let i = 0; i < n; i++) if (dominatedBy[i] === 0) current.push(i)
  while (current.length > 0) {
    fronts.push(current)
    const next: Array<number> = []
    for (const i of current) {
      for (const j of dominating[i]) if (--dominatedBy[j] === 0) next.push(j)
    }
    current = next.sort((a, b) => a - b)
  }
  return fronts
}

/**
 * The crowding distance of each member of one front (same order as `front`): the sum over the
 * objectives of the normalized gap between each point's neighbours; the extremes get Infinity.
 */
export const crowdingDistance = (points: ReadonlyArray<ArrayLike<number>>, front: ReadonlyArray<number>): Array<number> => {
  const k = front.length
  const out = new Array<number>(k).fill(0)
  if (k <= 2) return out.fill(Infinity)
  const m = points[front[0]].length
  const order = front.map((_, i) => i)
  for (let o = 0; o < m; o++) {
    order.sort((a, b) => points[front[a]][o] - points[front[b]][o] || a - b)
    const lo = points[front[order[0]]][o]
    const hi = points[front[order[k - 1]]][o]
    out[order[0]] = Infinity
    out[order[k - 1]] = Infinity
    if (hi === lo) continue
    for (let i = 1; i < k - 1; i++) {
      out[order[i]] += (points[front[order[i + 1]]][o] - points[front[order[i - 1]]][o]) / (hi - lo)
    }
  }
  return out
}

/** The points of a set that no other point of the set dominates, without duplicates. */
export const nondominated = (points: ReadonlyArray<ReadonlyArray<number>>): Array<ReadonlyArray<number>> => {
  // In lexicographic order a point can only be dominated by (or equal to) one before it, so each
  // point is compared with the points kept so far only.
  const sorted = [...points].sort((a, b) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i]
    return 0
  })
  const out: Array<ReadonlyArray<number>> = []
  outer: for (const p of sorted) {
    for (const q of out) {
      let weaklyBetter = true
      for (let i = 0; i < p.length; i++) {
        if (q[i] > p[i]) {
          weaklyBetter = false
          break
        }
      }
      if (weaklyBetter) continue outer // q dominates or equals p
    }
    out.push(p)
  }
  return out
}
