// Exact hypervolume of a set of minimization vectors with respect to a reference point.
// 2-D: a sweep after sorting by the first objective (O(n log n)).
// More dimensions: WFG, While, Bradstreet and Barone (2012), "A fast way of calculating exact
// hypervolumes", IEEE TEC 16(1): the volume is the sum of each point's exclusive contribution
// against the points after it, each computed through the "limit set" of those points.
import { nondominated } from "./pareto.js"

const box = (p: ReadonlyArray<number>, ref: ReadonlyArray<number>): number => {
  let v = 1
  for (let i = 0; i < p.length; i++) v *= ref[i] - p[i]
  return v
}

/** 2-D sweep; `points` must all lie strictly below the reference. */
export const sweep2d = (points: ReadonlyArray<ReadonlyArray<number>>, ref: ReadonlyArray<number>): number => {
  const s = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let area = 0
  let yBest = ref[1]
  for (const p of s) {
    if (p[1] >= yBest) continue // dominated by an earlier (smaller x) point
    area += (ref[0] - p[0]) * (yBest - p[1])
    yBest = p[1]
  }
  return area
}

// WFG on a nondominated set (every point strictly below the reference).
const wfg = (points: ReadonlyArray<ReadonlyArray<number>>, ref: ReadonlyArray<number>): number => {
  const n = points.length
  if (n === 0) return 0
  if (n === 1) return box(points[0], ref)
  const d = ref.length
  if (d === 1) return ref[0] - Math.min(...points.map((p) => p[0]))
  if (d === 2) return sweep2d(points, ref)
  // Sorting by the last objective, worst first, keeps the limit sets small (WFG, section IV).
  const pl = [...points].sort((a, b) => b[d - 1] - a[d - 1])
  let total = 0
  for (let k = 0; k < n; k++) {
    const p = pl[k]
    const limited: Array<ReadonlyArray<number>> = []
    for (let j = k + 1; j < n; j++) {
      const q = pl[j]
      const w = new Array<number>(d)
      for (let i = 0; i < d; i++) w[i] = Math.max(p[i], q[i])
      limited.push(w)
    }
    total += box(p, ref) - wfg(nondominated(limited), ref)
  }
  return total
}

/**
 * The hypervolume dominated by `points` (minimization) and bounded by `ref`. Points that do not
 * lie strictly below the reference in every objective contribute nothing.
 */
export const hypervolume = (points: ReadonlyArray<ReadonlyArray<number>>, ref: ReadonlyArray<number>): number => {
  const inside = points.filter((p) => p.every((v, i) => v < ref[i]))
  // The sweep skips dominated points itself.
  return ref.length === 2 ? sweep2d(inside, ref) : wfg(nondominated(inside), ref)
}

/**
 * The hypervolume by inclusion-exclusion over every subset: exponential, for cross-checking WFG
 * on small fronts (at most 20 points).
 */
export const inclusionExclusion = (points: ReadonlyArray<ReadonlyArray<number>>, ref: ReadonlyArray<number>): number => {
  const inside = points.filter((p) => p.every((v, i) => v < ref[i]))
  const n = inside.length
  if (n > 20) throw new Error(`inclusion-exclusion is exponential: ${n} points is too many`)
  const d = ref.length
  let total = 0
  for (let mask = 1; mask < 1 << n; mask++) {
    const corner = new Array<number>(d).fill(-Infinity)
    let bits = 0
    for (let i = 0; i < n; i++) {
      if ((mask & (1 << i)) === 0) continue
      bits++
      for (let j = 0; j < d; j++) corner[j] = Math.max(corner[j], inside[i][j])
    }
    total += (bits % 2 === 1 ? 1 : -1) * box(corner, ref)
  }
  return total
}
