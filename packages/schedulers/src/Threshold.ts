/**
 * The threshold pruner (Optuna's ThresholdPruner): prunes a trial whose value leaves
 * `[lower, upper]` or is NaN, a guard against diverging runs.
 *
 * @since 0.1.0
 */
import { Options as Opts, Scheduler } from "@tunekit/core"
import { type Layer, Schema } from "effect"
import { judged, stepFields, type StepOptions } from "./internal/gate.js"
import { fmt, valueOf } from "./internal/series.js"
import * as Pruner from "./Pruner.js"

/** Options of the threshold pruner: at least one bound. */
export interface Options extends StepOptions {
  readonly lower?: number
  readonly upper?: number
}

/**
 * The Schema of the threshold pruner's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Threshold } from "@tunekit/schedulers"
 * Options.jsonSchema(Threshold.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  ...stepFields,
  lower: Schema.optional(Opts.Finite),
  upper: Schema.optional(Opts.Finite)
}).pipe(Schema.filter((o) => {
  if (o.lower === undefined && o.upper === undefined) return "give lower, upper or both"
  if (o.lower !== undefined && o.upper !== undefined && o.lower > o.upper) return { path: ["lower"], message: `must not be above upper (${o.upper}), got ${o.lower}` }
  return true
}))

/**
 * The threshold pruner.
 *
 * @example
 * import { Threshold } from "@tunekit/schedulers"
 * const noDivergence = Threshold.make({ upper: 10, nWarmupSteps: 2 })
 */
export const make: (options: Options) => Pruner.Pruner = Pruner.fromOptions("threshold", OptionsSchema, (options) =>
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
  }))

/**
 * The threshold pruner as the study's Scheduler layer.
 *
 * @example
 * import { Threshold } from "@tunekit/schedulers"
 * const layer = Threshold.layer({ lower: 0.1 })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler> => Pruner.layer(make(options))
