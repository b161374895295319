// Hypervolume for MOTPE's split and weights (Ozaki et al. 2020/2022, "Multiobjective
// Tree-Structured Parzen Estimator"): the exact volume dominated by a small set of points (all
// objectives minimized) up to a reference point, by slicing along the last objective (While et
// al. 2006, HSO), with a sweep for two objectives. MOTPE only ever needs it for the `below` set
// (at most gamma(n) points), where this is fast.

/** The volume that `points` dominate inside the box below `ref`. */
export const hypervolume = (points: ReadonlyArray<ReadonlyArray<number>>, ref: ReadonlyArray<number>): number => {
  const d = ref.length
  const ps = points.filter((p) => p.every((v, i) => v < ref[i]))
  if (ps.length === 0) return 0
  if (d === 1) return ref[0] - Math.min(...ps.map((p) => p[0]))
  if (d === 2) {
    const s = [...ps].sort((a, b) => a[0] - b[0] || a[1] - b[1])
    let vol = 0
    let bestY = ref[1]
    for (let i = 0; i < s.length; i++) {
      if (s[i][1] >= bestY) continue
      const nextX = ref[0]
      vol += (nextX - s[i][0]) * (bestY - s[i][1])
      bestY = s[i][1]
    }
    return vol
  }
  const s = [...ps].sort((a, b) => a[d - 1] - b[d - 1])
  let vol = 0
  for (let i = 0; i < s.length; i++) {
    const next = i + 1 < s.length ? s[i + 1][d - 1] : ref[d - 1]
    const h = next - s[i][d - 1]
    if (h <= 0) continue
    vol += h * hypervolume(s.slice(0, i + 1).map((p) => p.slice(0, d - 1)), ref.slice(0, d - 1))
  }
  return vol
}

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
