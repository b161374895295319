/**
 * The percentile pruner (Optuna's PercentilePruner): after the startup trials and the warmup,
 * a trial whose best value so far is worse than the given percentile of the complete trials'
 * values at the same step is pruned.
 *
 * @since 0.1.0
 */
import { Options as Opts, Scheduler } from "@tunekit/core"
import { type Layer, Schema } from "effect"
import { judged, stepFields, type StepOptions } from "./internal/gate.js"
import { better, bestOf, fmt, percentile as pct, seriesOf, valueAt } from "./internal/series.js"
import * as Pruner from "./Pruner.js"

/** Options of the percentile pruner. */
export interface Options extends StepOptions {
  /** Keep trials in the best `percentile` percent (0 < percentile <= 100); 50 is the median pruner. */
  readonly percentile: number
  /** No pruning until this many trials are complete (default 5). */
  readonly nStartupTrials?: number
  /** No pruning at a step where fewer complete trials have a value (default 1). */
  readonly nMinTrials?: number
}

/** @internal the fields shared with the median pruner. */
export const sharedFields = {
  ...stepFields,
  nStartupTrials: Schema.optional(Opts.NonNegativeInt),
  nMinTrials: Schema.optional(Opts.PositiveInt)
}

/**
 * The Schema of the percentile pruner's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Percentile } from "@tunekit/schedulers"
 * Options.jsonSchema(Percentile.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({ ...sharedFields, percentile: Opts.number({ above: 0, max: 100 }) })

/** @internal the rule (of decoded options), shared with the median pruner. */
export const rule = (o: Options, name: string): Pruner.Pruner =>
  Pruner.make(
    name,
    ({ history, metric, objective, trial }) => {
      if (!judged(trial, metric.step, o)) return Scheduler.Continue
      const complete = history.filter((t) => t.state === "Complete" && t.id !== trial.id)
      if (complete.length < (o.nStartupTrials ?? 5)) return Scheduler.Continue
      const own = seriesOf(trial, objective.metric).filter(([s]) => s <= metric.step).map(([, v]) => v)
      if (own.length === 0) return Scheduler.Continue
      const best = bestOf(own, objective.direction)
      if (Number.isNaN(best)) return Scheduler.Decision.Prune({ reason: `${name}: ${objective.metric} is NaN at step ${metric.step}` })
      const others: Array<number> = []
      for (const t of complete) {
        const v = valueAt(t, objective.metric, metric.step)
        if (v !== undefined && !Number.isNaN(v)) others.push(v)
      }
      if (others.length < (o.nMinTrials ?? 1)) return Scheduler.Continue
      const cut = pct(others, objective.direction === "minimize" ? o.percentile : 100 - o.percentile)
      return better(cut, best, objective.direction)
        ? Scheduler.Decision.Prune({
          reason: `${name}: best ${objective.metric} ${fmt(best)} by step ${metric.step} is worse than the ${
            name === "median" ? "median" : `${fmt(o.percentile)}th percentile`
          } ${fmt(cut)} of ${others.length} complete trials at that step`
        })
        : Scheduler.Continue
    },
    { usesHistory: true }
  )

/**
 * The percentile pruner.
 *
 * @example
 * import { Percentile } from "@tunekit/schedulers"
 * const keepTopQuarter = Percentile.make({ percentile: 25, nStartupTrials: 5, nWarmupSteps: 3 })
 */
export const make: (options: Options) => Pruner.Pruner = Pruner.fromOptions("percentile", OptionsSchema, (o) => rule(o, "percentile"))

/**
 * The percentile pruner as the study's Scheduler layer.
 *
 * @example
 * import { Percentile } from "@tunekit/schedulers"
 * const layer = Percentile.layer({ percentile: 25 })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler> => Pruner.layer(make(options))
