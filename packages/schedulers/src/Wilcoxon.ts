/**
 * The Wilcoxon pruner (after Optuna's WilcoxonPruner), for objectives evaluated on the same
 * instances in every trial: cross-validation folds, benchmark problems, seeds. Each step is an
 * instance. A trial is pruned when, on the instances it shares with the best complete trial, it is
 * worse on average and a one-sided Wilcoxon signed-rank test (Wilcoxon 1945) says it is
 * significantly worse: p < `pThreshold`.
 *
 * @since 0.1.0
 */
import { Options as Opts, Scheduler } from "@tunekit/core"
import { type Layer, Schema } from "effect"
import type { Trial } from "@tunekit/core"
import { better, fmt, seriesOf } from "./internal/series.js"
import { signedRank as test } from "./internal/wilcoxon.js"
import * as Pruner from "./Pruner.js"

export type { Alternative, Result } from "./internal/wilcoxon.js"

/**
 * The Wilcoxon signed-rank test of paired differences against a median of zero: exact up to 50
 * non-zero differences (ties and zeros included), the normal approximation above.
 *
 * @example
 * import { Wilcoxon } from "@tunekit/schedulers"
 * // scipy.stats.wilcoxon's example: statistic 96, two-sided p = 0.041259765625
 * Wilcoxon.signedRank([6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75])
 */
export const signedRank: (
  d: ReadonlyArray<number>,
  alternative?: "greater" | "less" | "two-sided",
  method?: "auto" | "exact" | "normal"
) => import("./internal/wilcoxon.js").Result = test

/** Options of the Wilcoxon pruner. */
export interface Options {
  /** Prune when the p-value is below this (default 0.1). */
  readonly pThreshold?: number
  /** No pruning before this many instances are shared with the best trial (default 2). */
  readonly nStartupSteps?: number
}

/**
 * The Schema of the Wilcoxon pruner's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Wilcoxon } from "@tunekit/schedulers"
 * Options.jsonSchema(Wilcoxon.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  pThreshold: Schema.optional(Opts.number({ above: 0, below: 1 })),
  nStartupSteps: Schema.optional(Opts.PositiveInt)
})

const build = Pruner.fromOptions("wilcoxon", OptionsSchema, (options) =>
  Pruner.make("wilcoxon", ({ history, objective, trial }) => {
    const { direction, metric: name } = objective
    let best: Trial.FrozenTrial | undefined
    // The best complete trial with a finite value; ties go to the lower number, so that the
    // choice does not depend on the order of the history.
    for (const t of history) {
      if (t.state !== "Complete" || t.id === trial.id || t.values === undefined || !Number.isFinite(t.values[0])) continue
      const v = t.values[0]
      if (best === undefined || better(v, best.values![0], direction) || (v === best.values![0] && t.number < best.number)) best = t
    }
    if (best === undefined) return Scheduler.Continue
    const theirs = new Map(seriesOf(best, name))
    const diffs: Array<number> = []
    for (const [step, v] of seriesOf(trial, name)) {
      const b = theirs.get(step)
      if (b === undefined) continue
      if (Number.isNaN(v)) return Scheduler.Decision.Prune({ reason: `wilcoxon: ${name} is NaN at step ${step}` })
      diffs.push(direction === "minimize" ? v - b : b - v)
    }
    if (diffs.length < (options.nStartupSteps ?? 2)) return Scheduler.Continue
    const meanDiff = diffs.reduce((a, b) => a + b, 0) / diffs.length
    // Never prune a trial that is on average as good as the best: it may become the best.
    if (!(meanDiff > 0)) return Scheduler.Continue
    const result = test(diffs, "greater")
    const threshold = options.pThreshold ?? 0.1
    return result.pvalue < threshold
      ? Scheduler.Decision.Prune({
        reason: `wilcoxon: worse than trial ${best.number} on ${diffs.length} shared steps (mean ${fmt(meanDiff)} worse, p = ${
          fmt(result.pvalue)
        } < ${fmt(threshold)})`
      })
      : Scheduler.Continue
  }, { usesHistory: true }))

/**
 * The Wilcoxon pruner.
 *
 * @example
 * import { Wilcoxon } from "@tunekit/schedulers"
 * // steps are fold indices: report { step: fold, values: { loss } } for each fold
 * const folds = Wilcoxon.make({ pThreshold: 0.1, nStartupSteps: 3 })
 */
export const make = (options: Options = {}): Pruner.Pruner => build(options)

/**
 * The Wilcoxon pruner as the study's Scheduler layer.
 *
 * @example
 * import { Wilcoxon } from "@tunekit/schedulers"
 * const layer = Wilcoxon.layer({ pThreshold: 0.05 })
 */
export const layer = (options: Options = {}): Layer.Layer<Scheduler.Scheduler> => Pruner.layer(make(options))
