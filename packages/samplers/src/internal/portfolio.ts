// A portfolio of samplers that share a study's trials, the budget moving towards the member whose
// suggestions rank better: an online bandit over samplers (the portfolio allocation of Hoffman,
// Brochu & de Freitas, "Portfolio allocation for Bayesian optimization", UAI 2011, with members
// that are whole samplers, as in SMAC3's and HEBO's ensembles).
//
// Each trial a member proposed scores a success when its value beats the `quantile` of the values
// of the trials completed before it (numbered below it), a failure otherwise; each member's last
// `window` scores count (a sliding window, since which sampler proposes better changes as a study
// goes on: Garivier & Moulines 2011). The leader proposes most trials; every `probeEvery`-th trial
// goes to another member in turn, so that its record stays current, and a member whose recent
// success rate beats the leader's by `margin` takes the lead. The first member leads at the start:
// per-trial success understates a model whose gains compound (GP-BO's on smooth problems, where
// TPE's suggestions score as often but the GP's run ends far better), so the lead changes only on
// a clear difference.
import type { Trial } from "@tunekit/core"

export interface Settings {
  /** A success beats this quantile of the earlier values (0.1: the best tenth). */
  readonly quantile: number
  /** Scores per member that count. */
  readonly window: number
  /** Earlier complete trials needed before a trial is scored. */
  readonly minEarlier: number
  /** Every this many trials, a member other than the leader proposes. */
  readonly probeEvery: number
  /** How much higher a challenger's success rate must be to take the lead. */
  readonly margin: number
  /** Scored trials a challenger needs before it can take the lead. */
  readonly minScored: number
}

export const defaults: Settings = { quantile: 0.1, window: 10, minEarlier: 5, probeEvery: 5, margin: 0.2, minScored: 5 }

export interface Score {
  readonly successes: number
  readonly failures: number
}

const better = (direction: Trial.Direction) => (a: number, b: number) => (direction === "minimize" ? a < b : a > b)

/**
 * Each member's recent record: `memberOf` names the member that proposed a trial (undefined for
 * trials no member proposed, such as the startup design's).
 */
export const scores = <M extends string>(
  history: ReadonlyArray<Trial.FrozenTrial>,
  members: ReadonlyArray<M>,
  memberOf: (t: Trial.FrozenTrial) => M | undefined,
  direction: Trial.Direction,
  settings: Settings = defaults
): Record<M, Score> => {
  const done = history
    .filter((t) => t.state === "Complete" && t.values !== undefined && Number.isFinite(t.values[0]))
    .sort((a, b) => a.number - b.number)
  const beats = better(direction)
  const hits = new Map<M, Array<boolean>>(members.map((m) => [m, []]))
  // Values of the earlier trials, kept sorted best first.
  const earlier: Array<number> = []
  for (const t of done) {
    const v = t.values![0]
    const m = memberOf(t)
    if (m !== undefined && hits.has(m) && earlier.length >= settings.minEarlier) {
      const threshold = earlier[Math.min(earlier.length - 1, Math.floor(settings.quantile * earlier.length))]
      hits.get(m)!.push(beats(v, threshold))
    }
    let i = 0
    while (i < earlier.length && !beats(v, earlier[i])) i++
    earlier.splice(i, 0, v)
  }
  const out = {} as Record<M, Score>
  for (const m of members) {
    const recent = hits.get(m)!.slice(-settings.window)
    const successes = recent.filter((h) => h).length
    out[m] = { successes, failures: recent.length - successes }
  }
  return out
}

const rate = (s: Score) => s.successes / Math.max(1, s.successes + s.failures)

/** The member that leads: the first, unless another's recent success rate beats it by `margin`. */
export const leader = <M extends string>(score: Record<M, Score>, members: ReadonlyArray<M>, settings: Settings = defaults): M => {
  let lead = members[0]
  for (const m of members.slice(1)) {
    const s = score[m]
    if (s.successes + s.failures >= settings.minScored && rate(s) >= rate(score[lead]) + settings.margin) lead = m
  }
  return lead
}

/** The member that proposes trial `index` (counted from the first trial the portfolio serves). */
export const pick = <M extends string>(score: Record<M, Score>, members: ReadonlyArray<M>, index: number, settings: Settings = defaults): M => {
  const lead = leader(score, members, settings)
  if (members.length < 2 || index % settings.probeEvery !== settings.probeEvery - 1) return lead
  const others = members.filter((m) => m !== lead)
  return others[Math.floor(index / settings.probeEvery) % others.length]
}
