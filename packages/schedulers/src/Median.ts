/**
 * The median pruner (Optuna's MedianPruner; the median stopping rule of Golovin et al. 2017,
 * Google Vizier): after `nStartupTrials` complete trials and `nWarmupSteps`, a trial whose best
 * value so far is worse than the median of the complete trials' values at the same step is pruned.
 *
 * @since 0.1.0
 */
import { type Layer, Schema } from "effect"
import type { Scheduler } from "@tunekit/core"
import * as Percentile from "./Percentile.js"
import * as Pruner from "./Pruner.js"

/** Options of the median pruner (the percentile pruner's, without the percentile). */
export type Options = Omit<Percentile.Options, "percentile">

/**
 * The Schema of the median pruner's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Median } from "@tunekit/schedulers"
 * Options.jsonSchema(Median.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct(Percentile.sharedFields)

const build = Pruner.fromOptions("median", OptionsSchema, (o) => Percentile.rule({ ...o, percentile: 50 }, "median"))

/**
 * The median pruner.
 *
 * @example
 * import { Median } from "@tunekit/schedulers"
 * const median = Median.make({ nStartupTrials: 5, nWarmupSteps: 10, intervalSteps: 1 })
 */
export const make = (options: Options = {}): Pruner.Pruner => build(options)

/**
 * The median pruner as the study's Scheduler layer.
 *
 * @example
 * import { Median } from "@tunekit/schedulers"
 * const layer = Median.layer({ nStartupTrials: 5, nWarmupSteps: 10 })
 */
export const layer = (options: Options = {}): Layer.Layer<Scheduler.Scheduler> => Pruner.layer(make(options))
