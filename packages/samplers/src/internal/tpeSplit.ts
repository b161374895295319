// How TPE divides the history into the good ("below", modelled by l(x)) and the rest ("above",
// g(x)), and how it weighs each observation. Single objective: by value; pruned trials after
// complete ones, the further they got the better; running trials (the constant liar) are always
// above, so that parallel workers see their pending points as bad and go elsewhere. Several
// objectives (MOTPE, Ozaki et al. 2022): by non-domination rank, the last rank cut by greedy
// hypervolume subset selection, and below-weights proportional to hypervolume contributions.
import type { Trial } from "@tunekit/core"
import { contributions, greedySubset, referencePoint } from "./tpeHypervolume.js"

type FrozenTrial = Trial.FrozenTrial
type Direction = Trial.Direction

/** tunekit's default gamma: the best 15%, at most 25 trials (tuned on the benchmark problems). */
export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.15 * n), 25)

/** Optuna's default gamma: the best 10%, at most 25 trials. */
export const optunaGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25)

/** hyperopt's gamma: ceil(0.25 sqrt(n)), at most 25. */
export const hyperoptGamma = (n: number): number => Math.min(Math.ceil(0.25 * Math.sqrt(n)), 25)

/** Optuna's default weights: the 25 newest observations weigh 1, older ones ramp down linearly. */
export const defaultWeights = (n: number): Array<number> => {
  if (n === 0) return []
  if (n < 25) return Array.from({ length: n }, () => 1)
  const ramp = n - 25
  const out: Array<number> = []
  // linspace(1/n, 1, ramp), as numpy does it
  for (let i = 0; i < ramp; i++) out.push(ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1))
  for (let i = 0; i < 25; i++) out.push(1)
  return out
}

/** Losses to minimize: values with maximized objectives negated. */
export const lossOf = (t: FrozenTrial, directions: ReadonlyArray<Direction>): Array<number> =>
  directions.map((d, i) => (d === "minimize" ? t.values![i] : -t.values![i]))

/** Non-domination ranks (0 = the Pareto front) of loss vectors, computed until `needed` are ranked. */
export const nondominationRanks = (losses: ReadonlyArray<ReadonlyArray<number>>, needed: number): Array<number> => {
  const n = losses.length
  const dominates = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
    let better = false
    for (let i = 0; i < a.length; i++) {
      if (a[i] > b[i]) return false
      if (a[i] < b[i]) better = true
    }
    return better
  }
  const ranks = new Array<number>(n).fill(-1)
  let ranked = 0
  for (let rank = 0; ranked < Math.min(needed, n); rank++) {
    const front: Array<number> = []
    for (let i = 0; i < n; i++) {
      if (ranks[i] !== -1) continue
      let dominated = false
      for (let j = 0; j < n && !dominated; j++) if (j !== i && ranks[j] === -1 && dominates(losses[j], losses[i])) dominated = true
      if (!dominated) front.push(i)
    }
    for (const i of front) ranks[i] = rank
    ranked += front.length
  }
  return ranks
}

export interface Split {
  readonly below: ReadonlyArray<FrozenTrial>
  readonly above: ReadonlyArray<FrozenTrial>
}

/**
 * Splits trials (Complete, Pruned, and Running for the constant liar) into the best `nBelow`
 * and the rest, each in the order of `trials` (the history's order, by trial number).
 */
export const split = (trials: ReadonlyArray<FrozenTrial>, directions: ReadonlyArray<Direction>, nBelow: number): Split => {
  const complete: Array<FrozenTrial> = []
  const pruned: Array<FrozenTrial> = []
  for (const t of trials) {
    if (t.state === "Complete" && t.values !== undefined) complete.push(t)
    else if (t.state === "Pruned") pruned.push(t)
  }
  const isBelow = new Set<FrozenTrial>()
  const k = Math.min(nBelow, complete.length)
  if (directions.length <= 1) {
    const sign = directions[0] === "maximize" ? -1 : 1
    // The best k by a bounded insertion (k is at most gamma(n), small): cheaper than a full sort.
    // Ties go to the older trial (the history is in trial order and the comparison is strict).
    const top: Array<FrozenTrial> = []
    const vals: Array<number> = []
    for (const t of complete) {
      const v = sign * t.values![0]
      if (top.length === k && !(v < vals[k - 1])) continue
      let i = top.length === k ? k - 1 : top.length
      while (i > 0 && (v < vals[i - 1] || (v === vals[i - 1] && t.number < top[i - 1].number))) {
        top[i] = top[i - 1]
        vals[i] = vals[i - 1]
        i--
      }
      top[i] = t
      vals[i] = v
    }
    for (const t of top) isBelow.add(t)
    // Pruned trials: the more steps they reached the better, then by their last value.
    if (nBelow > k && pruned.length > 0) {
      const score = (t: FrozenTrial) => {
        const last = t.intermediate[t.intermediate.length - 1]
        const v = t.values?.[0]
        return { t, step: last === undefined ? 1 : -last.step, v: v === undefined ? Infinity : sign * v }
      }
      const sp = pruned.map(score).sort((a, b) => a.step - b.step || a.v - b.v || a.t.number - b.t.number)
      for (let i = 0; i < Math.min(nBelow - k, sp.length); i++) isBelow.add(sp[i].t)
    }
  } else if (k > 0) {
    // Several objectives: whole fronts while they fit, the last one cut by hypervolume.
    const losses = complete.map((t) => lossOf(t, directions))
    const ranks = nondominationRanks(losses, k)
    let taken = 0
    for (let r = 0; taken < k; r++) {
      const front = ranks.flatMap((x, i) => (x === r ? [i] : []))
      if (taken + front.length <= k) {
        for (const i of front) isBelow.add(complete[i])
        taken += front.length
      } else {
        const pts = front.map((i) => losses[i])
        for (const j of greedySubset(pts, k - taken, referencePoint(pts))) isBelow.add(complete[front[j]])
        taken = k
      }
    }
  }
  const below: Array<FrozenTrial> = []
  const above: Array<FrozenTrial> = []
  for (const t of trials) (isBelow.has(t) ? below : above).push(t)
  return { below, above }
}

/** MOTPE's weights of the below set: each point's hypervolume contribution, scaled to max 1. */
export const motpeBelowWeights = (below: ReadonlyArray<FrozenTrial>, directions: ReadonlyArray<Direction>): Array<number> => {
  if (below.length <= 1) return below.map(() => 1)
  const losses = below.map((t) => lossOf(t, directions))
  const c = contributions(losses, referencePoint(losses)).map((x) => x + 1e-12)
  const m = Math.max(...c)
  return c.map((x) => Math.min(1, Math.max(0, x / m)))
}
