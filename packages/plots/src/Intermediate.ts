/**
 * Intermediate values: each trial's learning curve (a metric by step), with the trials that were
 * pruned (or failed) marked at the step where they stopped (Optuna's
 * `plot_intermediate_values`). Running trials are shown as far as they have got.
 *
 * @since 0.1.0
 */
import { Trial } from "@tunekit/core"
import type { Source } from "./Source.js"

/** One trial's curve. */
export interface Curve {
  readonly trial: number
  readonly state: Trial.State
  readonly points: ReadonlyArray<{ readonly step: number; readonly value: number }>
  /** For a pruned or failed trial: its last report, where it stopped. */
  readonly stoppedAt?: { readonly step: number; readonly value: number }
}

/** The data of an intermediate values plot. */
export interface Data {
  readonly _tag: "Intermediate"
  /** The metric shown. */
  readonly metric: string
  /** Every metric the trials reported, to choose another. */
  readonly metrics: ReadonlyArray<string>
  /** Trials with at least one report of the metric, in order of number. */
  readonly curves: ReadonlyArray<Curve>
}

/** Options of `make`. */
export interface Options {
  /** The metric (default: the study's first objective when trials report it, else the first metric reported). */
  readonly metric?: string
}

/**
 * The learning curves of a study.
 *
 * @example
 * import { Intermediate, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Intermediate.make(study, { metric: "val_loss" })
 * data.curves.filter((c) => c.stoppedAt !== undefined) // the pruned trials
 */
export const make = (source: Source, options: Options = {}): Data => {
  const metrics: Array<string> = []
  for (const t of source.trials) for (const m of t.intermediate) for (const k of Object.keys(m.values)) if (!metrics.includes(k)) metrics.push(k)
  const metric = options.metric ?? (metrics.includes(source.objectives[0]) ? source.objectives[0] : metrics[0] ?? source.objectives[0] ?? "value")
  const curves: Array<Curve> = []
  for (const t of [...source.trials].sort((a, b) => a.number - b.number)) {
    const points = Trial.series(t, metric).filter(([, v]) => Number.isFinite(v)).map(([step, value]) => ({ step, value }))
    if (points.length === 0) continue
    const stopped = t.state === "Pruned" || t.state === "Failed"
    curves.push({ trial: t.number, state: t.state, points, ...(stopped ? { stoppedAt: points[points.length - 1] } : {}) })
  }
  return { _tag: "Intermediate", metric, metrics, curves }
}
