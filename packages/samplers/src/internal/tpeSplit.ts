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

const byNumber = (a: FrozenTrial, b: FrozenTrial) => a.number - b.number

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
 * and the rest, each ordered by trial number.
 */
export const split = (trials: ReadonlyArray<FrozenTrial>, directions: ReadonlyArray<Direction>, nBelow: number): Split => {
  const complete = trials.filter((t) => t.state === "Complete" && t.values !== undefined)
  const pruned = trials.filter((t) => t.state === "Pruned")
  const running = trials.filter((t) => t.state === "Running")
  let below: Array<FrozenTrial>
  let above: Array<FrozenTrial>
  const k = Math.min(nBelow, complete.length)
  if (directions.length <= 1) {
    const sign = directions[0] === "maximize" ? -1 : 1
    const sorted = [...complete].sort((a, b) => sign * (a.values![0] - b.values![0]) || a.number - b.number)
    below = sorted.slice(0, k)
    above = sorted.slice(k)
    // Pruned trials: the more steps they reached the better, then by their last value.
    const score = (t: FrozenTrial): [number, number] => {
      const last = t.intermediate[t.intermediate.length - 1]
      const v = t.values?.[0]
      return [last === undefined ? 1 : -last.step, v === undefined ? Infinity : sign * v]
    }
    const sp = [...pruned].sort((a, b) => {
      const [sa, va] = score(a)
      const [sb, vb] = score(b)
      return sa - sb || va - vb || a.number - b.number
    })
    const kp = Math.min(nBelow - k, sp.length)
    below.push(...sp.slice(0, kp))
    above.push(...sp.slice(kp))
  } else {
    const losses = complete.map((t) => lossOf(t, directions))
    const ranks = nondominationRanks(losses, k)
    const chosen: Array<number> = []
    for (let r = 0; chosen.length < k; r++) {
      const front = ranks.flatMap((x, i) => (x === r ? [i] : []))
      if (chosen.length + front.length <= k) chosen.push(...front)
      else {
        const pts = front.map((i) => losses[i])
        const picked = greedySubset(pts, k - chosen.length, referencePoint(pts))
        chosen.push(...picked.map((j) => front[j]))
      }
    }
    const isBelow = new Set(chosen)
    below = complete.filter((_, i) => isBelow.has(i))
    above = [...complete.filter((_, i) => !isBelow.has(i)), ...pruned]
  }
  above.push(...running)
  return { below: below.sort(byNumber), above: above.sort(byNumber) }
}

/** MOTPE's weights of the below set: each point's hypervolume contribution, scaled to max 1. */
export const motpeBelowWeights = (below: ReadonlyArray<FrozenTrial>, directions: ReadonlyArray<Direction>): Array<number> => {
  if (below.length <= 1) return below.map(() => 1)
  const losses = below.map((t) => lossOf(t, directions))
  const c = contributions(losses, referencePoint(losses)).map((x) => x + 1e-12)
  const m = Math.max(...c)
  return c.map((x) => Math.min(1, Math.max(0, x / m)))
}
