/**
 * Hyperband (Li et al. 2018, "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
 * Optimization", JMLR 18(185), Algorithm 1). With s_max = floor(log_eta(maxResource /
 * minResource)) and rungs maxResource * eta^-k for k = s_max ... 1 (anchored at maxResource, as
 * r_i = R eta^-s eta^i; rounded up to whole steps when the resources are whole numbers: `rungs`),
 * bracket s (s = s_max ... 0) runs synchronous successive halving on
 * n_s = ceil((s_max + 1) / (s + 1) * eta^s) configurations starting at rung s_max - s, keeping
 * floor(n_i / eta) (at least one) at each rung; bracket 0 trains n_0 configurations fully. One iteration runs every bracket once, in that order, trial
 * numbers filling the brackets one after the other; the iterations repeat. `brackets` keeps
 * only the most aggressive ones.
 *
 * Pauses need the objective to resume from `trial.resumeFrom`. A study should run whole
 * iterations: `Budget.layerConfigurations(plan(options).configurations)`. Trials still paused
 * when the study ends (a bracket cut by the `trials` of `Study.optimize`) are stored as Pruned.
 *
 * @since 0.1.0
 */
import { type Layer, Schema } from "effect"
import { Options as Opts, type Scheduler, type Storage, type Trial } from "@tunekit/core"
import type * as Pruner from "./Pruner.js"
import { rungFields, rungRule } from "./internal/rungOptions.js"
import { scheduler } from "./internal/rungService.js"
import { type Bracket, bracketSteps, etaOf, hyperbandLevels, type RungOptions, sizes, synchronous } from "./internal/rungs.js"

/** Options of Hyperband. */
export interface Options extends RungOptions {
  /** How many brackets, from the most aggressive (default all: s_max + 1). */
  readonly brackets?: number
  /**
   * The configurations the study runs in all (use with `Budget.layerConfigurations(limit)`):
   * whole iterations, then a partial one in which every bracket gets its share of the
   * configurations left (so that the last iteration still runs every bracket, and finishes).
   * Once they all exist, idle workers wait for the running trials instead of stopping.
   * Default: none, the study should run whole iterations.
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

/**
 * The Schema of Hyperband's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Hyperband } from "@tunekit/schedulers"
 * Options.jsonSchema(Hyperband.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  ...rungFields,
  brackets: Schema.optional(Opts.PositiveInt),
  limit: Schema.optional(Opts.PositiveInt)
}).pipe(
  Schema.filter(rungRule),
  Schema.filter((o) => {
    const most = hyperbandLevels(o).length + 1
    return (o.brackets ?? most) <= most || { path: ["brackets"], message: `must not exceed s_max + 1 = ${most}, got ${o.brackets}` }
  })
)

/**
 * The plan of one iteration: its brackets, their rungs, and the steps each spends.
 *
 * @example
 * import { Hyperband } from "@tunekit/schedulers"
 * const p = Hyperband.plan({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 * p.brackets.map((b) => b.configurations) // [81, 34, 15, 8, 5]
 */
export const plan = (options: Options): Plan => {
  const rs = hyperbandLevels(options)
  const eta = etaOf(options)
  const brackets: Array<BracketPlan> = []
  const iteration = layout(options)
  const size = iteration.reduce((a, b) => a + b.n, 0)
  const placed = options.limit === undefined ? iteration.map((b) => ({ ...b, iteration: 0, start: 0 })) : fill(iteration, options.limit)
  for (const b of size > 0 ? placed : []) {
    const rungs = rs.slice(rs.length - b.s)
    const ns = sizes(b.n, rungs.length, eta)
    brackets.push({
      s: b.s,
      iteration: b.iteration,
      configurations: b.n,
      rungs: [...rungs, options.maxResource].map((resource, i) => ({ resource, trials: ns[i] })),
      steps: bracketSteps(b.n, rungs, options.maxResource, eta)
    })
  }
  return {
    brackets,
    configurations: brackets.reduce((a, b) => a + b.configurations, 0),
    steps: brackets.reduce((a, b) => a + b.steps, 0)
  }
}

/**
 * Hyperband's rungs, lowest first: maxResource * eta^-k for k = s_max ... 1 with
 * s_max = floor(log_eta(maxResource / minResource)) (Li et al. 2018, Algorithm 1), rounded up to
 * whole steps when both resources are whole numbers. Bracket s compares on the last s of them.
 * They are `Asha.rungs` when maxResource / minResource is a power of eta.
 *
 * @example
 * import { Hyperband } from "@tunekit/schedulers"
 * Hyperband.rungs({ minResource: 1, maxResource: 81, reductionFactor: 3 }) // [1, 3, 9, 27]
 * Hyperband.rungs({ minResource: 1, maxResource: 50, reductionFactor: 3 }) // [2, 6, 17]: 50/27, 50/9, 50/3
 */
export const rungs = (options: RungOptions): ReadonlyArray<number> => hyperbandLevels(options)

interface Placed {
  readonly s: number
  readonly n: number
  readonly iteration: number
  /** The first trial number of the bracket. */
  readonly start: number
}

/**
 * The brackets of `limit` configurations: whole iterations, then a last, partial one that keeps
 * every bracket, each with its share of the configurations left (n_s in proportion, rounded by
 * largest remainder). That is Algorithm 1's n_s = ceil(B / R * eta^s / (s + 1)) with a smaller
 * budget B: a short iteration still hedges over every bracket, rather than running only the
 * most aggressive ones (which would make a study of fewer configurations than one iteration
 * plain successive halving from minResource).
 */
const fill = (iteration: ReadonlyArray<{ readonly s: number; readonly n: number }>, limit: number): Array<Placed> => {
  const total = iteration.reduce((a, b) => a + b.n, 0)
  const out: Array<Placed> = []
  if (total === 0) return out
  const whole = Math.floor(limit / total)
  let start = 0
  for (let it = 0; it < whole; it++) {
    for (const b of iteration) {
      out.push({ s: b.s, n: b.n, iteration: it, start })
      start += b.n
    }
  }
  const left = limit - start
  const shares = iteration.map((b) => (left * b.n) / total)
  const ns = shares.map(Math.floor)
  // the configurations rounding left out go to the largest remainders (ties: the more aggressive bracket)
  const order = iteration.map((_, i) => i).sort((a, b) => (shares[b] - ns[b]) - (shares[a] - ns[a]) || a - b)
  for (let k = 0, missing = left - ns.reduce((a, b) => a + b, 0); k < missing; k++) ns[order[k]]++
  iteration.forEach((b, i) => {
    if (ns[i] === 0) return
    out.push({ s: b.s, n: ns[i], iteration: whole, start })
    start += ns[i]
  })
  return out
}

/** The brackets of one iteration: s and n_s (Li et al. 2018, Algorithm 1). */
const layout = (o: Options): Array<{ readonly s: number; readonly n: number }> => {
  const sMax = hyperbandLevels(o).length
  const eta = etaOf(o)
  const count = Math.min(o.brackets ?? sMax + 1, sMax + 1)
  const out: Array<{ s: number; n: number }> = []
  for (let s = sMax; s > sMax - count; s--) out.push({ s, n: Math.ceil(((sMax + 1) / (s + 1)) * eta ** s - 1e-9) })
  return out
}

const core = (o: Options) => {
  const rs = hyperbandLevels(o)
  const iteration = layout(o)
  const total = Math.max(1, iteration.reduce((a, b) => a + b.n, 0))
  const limited = o.limit === undefined ? [] : fill(iteration, o.limit)
  const bracket = (b: Placed): Bracket => ({ key: `hb:${b.iteration}:${b.s}`, rungs: rs.slice(rs.length - b.s), members: { start: b.start, size: b.n } })
  const bracketOf = (number: number): Bracket => {
    const within = limited.find((b) => number >= b.start && number < b.start + b.n)
    if (within !== undefined) return bracket(within)
    // Past the limit (or without one): whole iterations, numbered on from the limit's.
    const offset = o.limit === undefined ? 0 : o.limit
    const first = o.limit === undefined ? 0 : (limited[limited.length - 1]?.iteration ?? -1) + 1
    const it = Math.floor((number - offset) / total)
    let start = offset + it * total
    for (const b of iteration) {
      if (number < start + b.n) return bracket({ s: b.s, n: b.n, iteration: first + it, start })
      start += b.n
    }
    return { key: `hb:${first + it}:none`, rungs: [], members: { start: offset + it * total, size: total } }
  }
  return synchronous("hyperband", o, (t) => bracketOf(t.number))
}

const built = scheduler("hyperband", OptionsSchema, core)

/**
 * Hyperband as a pruner (for RxJS operators: the decisions, without the writes).
 *
 * @example
 * import { Hyperband } from "@tunekit/schedulers"
 * const hb = Hyperband.make({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 */
export const make = (options: Options): Pruner.Pruner => built.make(options)

/**
 * Hyperband as the study's Scheduler layer.
 *
 * @example
 * import { Hyperband } from "@tunekit/schedulers"
 * const layer = Hyperband.layer({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage> => built.layer(options)

/**
 * Each trial's bracket under these options (Hyperband compares a trial with those of its bracket, on
 * the bracket's rungs), as the scheduler decides; undefined when the options are invalid. The
 * rungs plot of @tunekit/plots takes it.
 *
 * @example
 * import { Hyperband } from "@tunekit/schedulers"
 * import type { Trial } from "@tunekit/core"
 * const bracketOf = Hyperband.bracketOf({ minResource: 1, maxResource: 9, reductionFactor: 3 })!
 * declare const t: Trial.FrozenTrial
 * bracketOf(t) // trial 0: { key: "hb:0:2", rungs: [1, 3], members: { start: 0, size: 9 } }
 */
export const bracketOf = (options: Options): ((trial: Trial.FrozenTrial) => Bracket) | undefined => built.bracketOf(options)
