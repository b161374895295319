/**
 * Parameter importance: how much each parameter matters to the objective, from the history alone.
 *
 * - `fanova`: functional ANOVA on a random forest fitted to the complete trials (Hutter, Hoos &
 *   Leyton-Brown 2014): the share of the objective's variance that each parameter's main effect
 *   explains. Optuna's default evaluator.
 * - `pedAnova`: PED-ANOVA (Watanabe, Bansal & Hutter 2023): how differently a parameter is
 *   distributed among the best trials than among all trials. Needs no model, so it is fast on
 *   large histories, and it says what matters to reach the top rather than on average.
 *
 * Importances are normalized to sum to 1 for each objective (as Optuna's). A study with several
 * objectives gets one set per objective. A parameter present only in some trials (a branch of the
 * space) is left out by default, as Optuna's intersection search space leaves it out; naming it in
 * `params` evaluates on the trials where every named parameter is active.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import { InvalidPlot } from "./Errors.js"
import type { Source } from "./Source.js"
import { mainEffects } from "./internal/fanova.js"
import { type Feature, forest } from "./internal/forest.js"
import { axisOf, names, type ParamAxis, toUnit, valueOn } from "./internal/params.js"
import { type Gridded, importances } from "./internal/pedAnova.js"
import { resolve, type Target, type TargetOptions, valued } from "./internal/target.js"

/** The importances of the parameters for one objective. */
export interface ObjectiveImportances {
  readonly objective: string
  /** How many complete trials the importances come from. */
  readonly trials: number
  /** One per parameter, in the order of `Data.params`; they sum to 1, or are all 0 when the trials cannot tell. */
  readonly importances: ReadonlyArray<number>
  /** fANOVA only: each main effect's fraction of the variance, before normalizing (Hutter et al.'s figure). */
  readonly fractions?: ReadonlyArray<number>
}

/** The data of a parameter importance plot. */
export interface Data {
  readonly _tag: "Importance"
  readonly method: "fanova" | "ped-anova"
  /** The parameters, most important first (for the first objective). */
  readonly params: ReadonlyArray<string>
  readonly objectives: ReadonlyArray<ObjectiveImportances>
}

/** Options common to both methods. */
export interface Options {
  /** The parameters to evaluate (default: those every complete trial has). */
  readonly params?: ReadonlyArray<string>
  /** One objective, by index or name (default: every objective of the study, each on its own). */
  readonly objective?: number | string
  /** Or any number of a trial (Optuna's `target`). */
  readonly target?: TargetOptions["target"]
}

/** Options of `fanova`. */
export interface FanovaOptions extends Options {
  /** Trees of the forest (default 64). */
  readonly trees?: number
  /** The depth of a tree at most (default 64). */
  readonly maxDepth?: number
  /** The seed of the bootstrap samples (default 0). */
  readonly seed?: number
}

/** Options of `pedAnova`. */
export interface PedAnovaOptions extends Options {
  /** The fraction of the trials, best first, that counts as the top (γ'; default 0.1, at least 2 trials). */
  readonly quantile?: number
  /**
   * Compare the top trials with all trials evaluated (default true: what mattered in this study),
   * or with the uniform density over the domain (false: the paper's global importance).
   */
  readonly local?: boolean
}

const fail = (reason: string): never => {
  throw new InvalidPlot({ plot: "importance", reason })
}

const targetsOf = (source: Source, options: Options): Array<Target> =>
  options.target !== undefined || options.objective !== undefined
    ? [resolve(source, options, "importance")]
    : source.directions.map((_, i) => resolve(source, { objective: i }, "importance"))

/** The rows (complete trials with a value and every parameter) and their axes. */
const design = (source: Source, target: Target, params: ReadonlyArray<string> | undefined) => {
  const all = valued(source.trials, target)
  const chosen = params ?? names(all.map((v) => v.trial)).filter((p) => all.every((v) => v.trial.params[p] !== undefined))
  const axes: Array<ParamAxis> = chosen.map((p) => axisOf(source.trials, p) ?? fail(`no trial has the parameter "${p}"`))
  const rows = all.filter((v) => axes.every((a) => valueOn(a, v.trial) !== undefined))
  return { axes, rows }
}

const assemble = (
  method: Data["method"],
  params: ReadonlyArray<string>,
  results: ReadonlyArray<ObjectiveImportances>
): Data => {
  // Most important first, by the first objective; ties keep the parameters' order.
  const first = results[0]?.importances ?? []
  const order = params.map((_, i) => i).sort((a, b) => (first[b] ?? 0) - (first[a] ?? 0) || a - b)
  const pick = (xs: ReadonlyArray<number>) => order.map((i) => xs[i])
  return {
    _tag: "Importance",
    method,
    params: order.map((i) => params[i]),
    objectives: results.map((r) => ({ ...r, importances: pick(r.importances), ...(r.fractions ? { fractions: pick(r.fractions) } : {}) }))
  }
}

const normalize = (xs: ReadonlyArray<number>): Array<number> => {
  const s = xs.reduce((a, b) => a + b, 0)
  return xs.map((x) => (s > 0 ? x / s : 0))
}

/** The parameter set evaluated: the same for every objective, so that they line up. */
const paramsOf = (source: Source, targets: ReadonlyArray<Target>, options: Options): ReadonlyArray<string> => {
  if (options.params !== undefined) return options.params
  const sets = targets.map((t) => design(source, t, undefined).axes.map((a) => a.name))
  return sets[0]?.filter((p) => sets.every((s) => s.includes(p))) ?? []
}

/**
 * fANOVA importances: a random forest is fitted to the complete trials (numeric parameters in
 * their unit space, log scales in log space; categorical parameters split into sets of choices),
 * and each parameter's main-effect share of the variance is averaged over the trees.
 *
 * @example
 * import { Importance, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Importance.fanova(study, { seed: 1 })
 * data.params[0] // the most important parameter
 */
export const fanova = (source: Source, options: FanovaOptions = {}): Data => {
  for (const [k, v] of [["trees", options.trees], ["maxDepth", options.maxDepth]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) fail(`${k} must be a positive integer, got ${v}`)
  }
  const targets = targetsOf(source, options)
  const params = paramsOf(source, targets, options)
  const results = targets.map((target): ObjectiveImportances => {
    const { axes, rows } = design(source, target, params)
    if (rows.length < 2 || axes.length === 0) {
      return { objective: target.name, trials: rows.length, importances: axes.map(() => 0), fractions: axes.map(() => 0) }
    }
    const features: Array<Feature> = axes.map((a) => (a.scale === "categorical" ? { kind: "categorical", size: a.choices!.length } : { kind: "numeric" }))
    const columns = axes.map((a) => Float64Array.from(rows, (r) => {
      const v = valueOn(a, r.trial)!
      return a.scale === "categorical" ? v : Math.min(1, Math.max(0, toUnit(a, v)))
    }))
    const y = Float64Array.from(rows, (r) => r.value)
    const trees = forest(columns, features, y, { trees: options.trees, maxDepth: options.maxDepth, seed: options.seed })
    const fractions = mainEffects(trees, features)
    return { objective: target.name, trials: rows.length, importances: normalize(fractions), fractions }
  })
  return assemble("fanova", params, results)
}

const GRID = 50

/** A parameter's grid: its own values when it has at most 50 (choices, small integer ranges), else 50 points of its unit range. */
const gridOf = (axis: ParamAxis, trials: ReadonlyArray<Trial.FrozenTrial>): Gridded => {
  if (axis.scale === "categorical") {
    return { size: axis.choices!.length, categorical: true, index: trials.map((t) => valueOn(axis, t)!) }
  }
  const [lo, hi] = axis.range
  const values = axis.step !== undefined ? Math.round((hi - lo) / axis.step) + 1 : Infinity
  if (values <= GRID) {
    return { size: values, categorical: false, index: trials.map((t) => Math.round((valueOn(axis, t)! - lo) / axis.step!)) }
  }
  return {
    size: GRID,
    categorical: false,
    index: trials.map((t) => Math.round(Math.min(1, Math.max(0, toUnit(axis, valueOn(axis, t)!))) * (GRID - 1)))
  }
}

/**
 * PED-ANOVA importances: each parameter's Pearson divergence between its density among the top
 * `quantile` of the trials and among all of them (`local`, default) or the uniform one.
 *
 * @example
 * import { Importance, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Importance.pedAnova(study, { quantile: 0.1 })
 */
export const pedAnova = (source: Source, options: PedAnovaOptions = {}): Data => {
  const quantile = options.quantile ?? 0.1
  if (!(quantile > 0 && quantile <= 1)) fail(`quantile must be in (0, 1], got ${quantile}`)
  const targets = targetsOf(source, options)
  const params = paramsOf(source, targets, options)
  const results = targets.map((target): ObjectiveImportances => {
    const { axes, rows } = design(source, target, params)
    // Too few trials to tell a top from the rest (the paper's and Optuna's minimum of 2 top trials).
    if (rows.length <= 2 || axes.length === 0) return { objective: target.name, trials: rows.length, importances: axes.map(() => 0) }
    const sign = target.direction === "minimize" ? 1 : -1
    const order = rows.map((_, i) => i).sort((a, b) => sign * (rows[a].value - rows[b].value) || a - b)
    // Every trial as good as the quantile's value is in the top (ties stay together), and at least 2.
    const cutoff = rows[order[Math.min(rows.length - 1, Math.ceil(quantile * rows.length) - 1)]].value
    let top = order.filter((i) => sign * (rows[i].value - cutoff) <= 0)
    if (top.length < 2) top = order.slice(0, 2)
    const trials = rows.map((r) => r.trial)
    const grids = axes.map((a) => gridOf(a, trials))
    const all = rows.map((_, i) => i)
    return { objective: target.name, trials: rows.length, importances: normalize(importances(grids, top, all, options.local ?? true)) }
  })
  return assemble("ped-anova", params, results)
}
