/**
 * Hyperband (Li et al. 2018, "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
 * Optimization", JMLR 18(185), Algorithm 1). With rungs r_k = minResource * eta^k below
 * maxResource (s_max of them), bracket s (s = s_max ... 0) runs synchronous successive halving on
 * n_s = ceil((s_max + 1) / (s + 1) * eta^s) configurations starting at rung s_max - s; bracket 0
 * trains n_0 configurations fully. One iteration runs every bracket once, in that order, trial
 * numbers filling the brackets one after the other; the iterations repeat. `brackets` keeps
 * only the most aggressive ones.
 *
 * Pauses need the objective to resume from `trial.resumeFrom`. A study should run whole
 * iterations: `Budget.layerConfigurations(plan(options).configurations)`. Trials still paused
 * when the study ends (a bracket cut by the `trials` of `Study.optimize`) are stored as Pruned.
 *
 * @since 0.1.0
 */
import type { Layer } from "effect"
import type { Scheduler, Storage } from "@tunekit/core"
import type * as Pruner from "./Pruner.js"
import { layer as rungLayer, pruner as rungPruner } from "./internal/rungService.js"
import { type Bracket, bracketSteps, etaOf, levels, type RungOptions, rungProblems, sizes, synchronous } from "./internal/rungs.js"

/** Options of Hyperband. */
export interface Options extends RungOptions {
  /** How many brackets, from the most aggressive (default all: s_max + 1). */
  readonly brackets?: number
  /**
   * The configurations the study runs in all (use with `Budget.layerConfigurations(limit)`): the
   * bracket the limit cuts is shortened to the trials it gets, so that it finishes, and once they
   * all exist, idle workers wait for the running trials instead of stopping. Default: none, the
   * study should run whole iterations.
   */
  readonly limit?: number
}

/** One bracket. */
export interface BracketPlan {
  readonly s: number
  /** The iteration it belongs to (0 without a limit). */
  readonly iteration: number
  readonly configurations: number
  readonly rungs: ReadonlyArray<{ readonly resource: number; readonly trials: number }>
  readonly steps: number
}

/** One iteration of Hyperband, or with a `limit` every bracket up to the limit. */
export interface Plan {
  readonly brackets: ReadonlyArray<BracketPlan>
  readonly configurations: number
  readonly steps: number
}

const problems = (o: Options): Array<string> => {
  const out = rungProblems(o)
  if (o.brackets !== undefined) {
    const most = levels(o).length + 1
    if (!(Number.isInteger(o.brackets) && o.brackets >= 1)) out.push(`brackets must be a positive integer, got ${o.brackets}`)
    else if (out.length === 0 && o.brackets > most) out.push(`brackets (${o.brackets}) exceeds s_max + 1 = ${most}`)
  }
  if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 1)) out.push(`limit must be a positive integer, got ${o.limit}`)
  return out
}

/**
 * The plan of one iteration: its brackets, their rungs, and the steps each spends.
 *
 * @example
 * import { Hyperband } from "@tunekit/schedulers"
 * const p = Hyperband.plan({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 * p.brackets.map((b) => b.configurations) // [81, 34, 15, 8, 5]
 */
export const plan = (options: Options): Plan => {
  const rs = levels(options)
  const eta = etaOf(options)
  const brackets: Array<BracketPlan> = []
  const iteration = layout(options)
  const size = iteration.reduce((a, b) => a + b.n, 0)
  const limit = options.limit ?? size
  for (let it = 0, start = 0; start < limit && size > 0; it++) {
    for (const b of iteration) {
      const n = Math.min(b.n, limit - start)
      if (n <= 0) break
      const rungs = rs.slice(rs.length - b.s)
      const ns = sizes(n, rungs.length, eta)
      brackets.push({
        s: b.s,
        iteration: it,
        configurations: n,
        rungs: [...rungs, options.maxResource].map((resource, i) => ({ resource, trials: ns[i] })),
        steps: bracketSteps(n, rungs, options.maxResource, eta)
      })
      start += b.n
    }
  }
  return {
    brackets,
    configurations: brackets.reduce((a, b) => a + b.configurations, 0),
    steps: brackets.reduce((a, b) => a + b.steps, 0)
  }
}

/** The brackets of one iteration: s and n_s (Li et al. 2018, Algorithm 1). */
const layout = (o: Options): Array<{ readonly s: number; readonly n: number }> => {
  const sMax = levels(o).length
  const eta = etaOf(o)
  const count = Math.min(o.brackets ?? sMax + 1, sMax + 1)
  const out: Array<{ s: number; n: number }> = []
  for (let s = sMax; s > sMax - count; s--) out.push({ s, n: Math.ceil(((sMax + 1) / (s + 1)) * eta ** s - 1e-9) })
  return out
}

const core = (o: Options) => {
  const rs = levels(o)
  const iteration = layout(o)
  const total = Math.max(1, iteration.reduce((a, b) => a + b.n, 0))
  const bracketOf = (number: number): Bracket => {
    const it = Math.floor(number / total)
    let start = it * total
    for (const b of iteration) {
      if (number < start + b.n) {
        const size = o.limit !== undefined && start < o.limit ? Math.min(b.n, o.limit - start) : b.n
        return { key: `hb:${it}:${b.s}`, rungs: rs.slice(rs.length - b.s), members: { start, size } }
      }
      start += b.n
    }
    return { key: `hb:${it}:none`, rungs: [], members: { start: it * total, size: total } }
  }
  return synchronous("hyperband", o, (t) => bracketOf(t.number))
}

/**
 * Hyperband as a pruner (for RxJS operators: the decisions, without the writes).
 *
 * @example
 * import { Hyperband } from "@tunekit/schedulers"
 * const hb = Hyperband.make({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 */
export const make = (options: Options): Pruner.Pruner => rungPruner("hyperband", problems(options), core(options))

/**
 * Hyperband as the study's Scheduler layer.
 *
 * @example
 * import { Hyperband } from "@tunekit/schedulers"
 * const layer = Hyperband.layer({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage> =>
  rungLayer("hyperband", problems(options), core(options), options.limit)
