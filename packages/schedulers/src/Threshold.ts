/**
 * The threshold pruner (Optuna's ThresholdPruner): prunes a trial whose value leaves
 * `[lower, upper]` or is NaN, a guard against diverging runs.
 *
 * @since 0.1.0
 */
import { Scheduler } from "@tunekit/core"
import type { Layer } from "effect"
import { judged, type StepOptions, stepProblems } from "./internal/gate.js"
import { fmt, valueOf } from "./internal/series.js"
import * as Pruner from "./Pruner.js"

/** Options of the threshold pruner: at least one bound. */
export interface Options extends StepOptions {
  readonly lower?: number
  readonly upper?: number
}

const problems = (o: Options): Array<string> => {
  const out = stepProblems(o)
  if (o.lower === undefined && o.upper === undefined) out.push("give lower, upper or both")
  if (o.lower !== undefined && Number.isNaN(o.lower)) out.push("lower is NaN")
  if (o.upper !== undefined && Number.isNaN(o.upper)) out.push("upper is NaN")
  if (o.lower !== undefined && o.upper !== undefined && o.lower > o.upper) out.push(`lower (${o.lower}) is above upper (${o.upper})`)
  return out
}

/**
 * The threshold pruner.
 *
 * @example
 * import { Threshold } from "@tunekit/schedulers"
 * const noDivergence = Threshold.make({ upper: 10, nWarmupSteps: 2 })
 */
export const make = (options: Options): Pruner.Pruner =>
  Pruner.make("threshold", ({ metric, objective, trial }) => {
    if (!judged(trial, metric.step, options)) return Scheduler.Continue
    const v = valueOf(metric, objective.metric)
    if (v === undefined) return Scheduler.Continue
    const at = `${objective.metric} at step ${metric.step}`
    if (Number.isNaN(v)) return Scheduler.Decision.Prune({ reason: `threshold: ${at} is NaN` })
    if (options.lower !== undefined && v < options.lower) {
      return Scheduler.Decision.Prune({ reason: `threshold: ${at} is ${fmt(v)}, below the lower bound ${fmt(options.lower)}` })
    }
    if (options.upper !== undefined && v > options.upper) {
      return Scheduler.Decision.Prune({ reason: `threshold: ${at} is ${fmt(v)}, above the upper bound ${fmt(options.upper)}` })
    }
    return Scheduler.Continue
  }, { problems: problems(options) })

/**
 * The threshold pruner as the study's Scheduler layer.
 *
 * @example
 * import { Threshold } from "@tunekit/schedulers"
 * const layer = Threshold.layer({ lower: 0.1 })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler> => Pruner.layer(make(options))
