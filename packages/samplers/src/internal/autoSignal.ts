// What Auto reads of a problem's landscape: a GP fitted (type-II MAP, as GP-BO's own) on the
// completed trials, and how much of the objective's variance it leaves to noise. A smooth
// function is interpolated (noise near the floor); a rugged one (a Rastrigin's ripples, finer than
// the trials can resolve) is explained by the fit as noise: the fitted noise share measures how
// much of the objective the GP cannot model at the current density of trials, the signal of a
// poor surrogate that Hoffman et al.'s portfolio and HEBO's model checks look for.
import { Distribution } from "@tunekit/core"
import type { Rng, Sampler, Trial } from "@tunekit/core"
import * as Gp from "./gp.js"
import * as GpPrior from "./gpPrior.js"
import * as GpSampler from "./gpSampler.js"

export interface Fit {
  /** Completed trials fitted. */
  readonly n: number
  /** The fitted noise's share of the prior variance (signal + additive + noise), in [0, 1]. */
  readonly noiseShare: number
  /** The fitted length scales in the unit cube. */
  readonly lengthScales: ReadonlyArray<number>
  readonly hyper: Gp.Hyper
}

/** The GP of `space` on the completed trials of `history` (undefined with fewer than 4). */
export const fit = (
  history: ReadonlyArray<Trial.FrozenTrial>,
  space: Sampler.SearchSpace,
  direction: Trial.Direction,
  rng: Rng.Generator
): Fit | undefined => {
  const enc = GpSampler.encoding(new Map([...space].filter(([, d]) => !Distribution.isSingle(d))))
  const D = enc.dims
  const rows: Array<Float64Array> = []
  const values: Array<number> = []
  for (const t of history) {
    if (t.state !== "Complete" || t.values === undefined || !Number.isFinite(t.values[0])) continue
    const row = GpSampler.rowOf(t, enc)
    if (!GpSampler.isActive(row)) continue
    rows.push(row)
    values.push(direction === "maximize" ? t.values[0] : -t.values[0])
  }
  const n = rows.length
  if (n < 4 || D === 0) return undefined
  const x = new Float64Array(n * D)
  rows.forEach((r, i) => GpSampler.encode(enc, r, x, i * D))
  const y = Float64Array.from(values)
  GpSampler.warpInPlace(y)
  GpPrior.standardizeInPlace(y)
  const hyper = Gp.fit("matern52", { x, y, n, dims: D }, rng, { restarts: 1, additive: true })
  const total = hyper.amplitude + (hyper.additive ?? 0) + hyper.noise
  return { n, noiseShare: hyper.noise / total, lengthScales: Array.from(hyper.lengthScales), hyper }
}

export interface Settings {
  /** Completed trials between two fits (a fit every `every` trials, from `first` on). */
  readonly every: number
  /** The first fit: after this many completed trials. */
  readonly first: number
  /** Fits whose median decides (the latest ones). */
  readonly window: number
  /** A median noise share at or above this marks the objective rugged. */
  readonly threshold: number
}

export const defaults: Settings = { every: 5, first: 20, window: 3, threshold: 0.04 }

/**
 * The completed trials in the order of their numbers, and the counts at which the signal is fitted
 * (the first k of them): a function of the history alone, so that every worker and a resumed study
 * read the same signal.
 */
const checkpoints = (done: number, s: Settings): ReadonlyArray<number> => {
  const out: Array<number> = []
  for (let k = s.first; k <= done; k += s.every) out.push(k)
  return out.slice(-s.window)
}

/** A cache of fits per study, keyed by the trials fitted. */
export type Cache = Map<string, number>

/**
 * The median noise share of the latest fits (undefined before the first), each fit on the first k
 * completed trials by number for the latest `window` checkpoints k.
 */
export const ruggedness = (
  history: ReadonlyArray<Trial.FrozenTrial>,
  space: Sampler.SearchSpace,
  direction: Trial.Direction,
  rngOf: (k: number) => Rng.Generator,
  cache: Cache,
  s: Settings = defaults
): number | undefined => {
  const done = history
    .filter((t) => t.state === "Complete" && t.values !== undefined && Number.isFinite(t.values[0]))
    .sort((a, b) => a.number - b.number)
  const ks = checkpoints(done.length, s)
  if (ks.length === 0) return undefined
  const shares = ks.map((k) => {
    const first = done.slice(0, k)
    // The trials' numbers themselves: a count and a sum of numbers collide across orders of completion.
    const key = first.map((t) => t.number).join(",")
    let share = cache.get(key)
    if (share === undefined) {
      share = fit(first, space, direction, rngOf(k))?.noiseShare ?? 0
      cache.set(key, share)
    }
    return share
  })
  shares.sort((a, b) => a - b)
  return shares[Math.floor(shares.length / 2)]
}
