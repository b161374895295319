// Hypervolume for MOTPE's split and weights (Ozaki et al. 2020/2022, "Multiobjective
// Tree-Structured Parzen Estimator"): contributions, the reference point, and greedy subset
// selection, over the exact hypervolume of paretoHypervolume.ts (all objectives minimized). MOTPE
// only ever needs it for the `below` set (at most gamma(n) points), where this is fast.
import { hypervolume } from "./paretoHypervolume.js"

/** Each point's exclusive contribution: the volume lost when it alone is removed. */
export const contributions = (points: ReadonlyArray<ReadonlyArray<number>>, ref: ReadonlyArray<number>): Array<number> => {
  const total = hypervolume(points, ref)
  return points.map((_, i) => total - hypervolume(points.filter((_, j) => j !== i), ref))
}

/** The reference point Optuna's MOTPE uses: a little beyond the worst value of each objective. */
export const referencePoint = (points: ReadonlyArray<ReadonlyArray<number>>): Array<number> =>
  points[0].map((_, i) => {
    const worst = Math.max(...points.map((p) => p[i]))
    const r = Math.max(1.1 * worst, 0.9 * worst)
    return r === 0 ? 1e-12 : r
  })

/**
 * Greedy hypervolume subset selection: `k` of `points` (indices), each step taking the point that
 * adds the most volume to those already taken (Guerreiro et al. 2016's greedy HSSP).
 */
export const greedySubset = (points: ReadonlyArray<ReadonlyArray<number>>, k: number, ref: ReadonlyArray<number>): Array<number> => {
  const chosen: Array<number> = []
  const left = new Set(points.map((_, i) => i))
  let current = 0
  while (chosen.length < k && left.size > 0) {
    let best = -1
    let bestGain = -Infinity
    for (const i of left) {
      const gain = hypervolume([...chosen.map((j) => points[j]), points[i]], ref) - current
      if (gain > bestGain) {
        bestGain = gain
        best = i
      }
    }
    chosen.push(best)
    left.delete(best)
    current += bestGain
  }
  return chosen
}
