/**
 * Cross-validation folds per trial: each fold's score, the mean and the standard deviation, for
 * trials whose objective reports one fold a step (`CrossValidation.objective` and `evaluate` of
 * @tunekit/datasets do). A pruned trial shows the folds it ran before it was stopped. The numbers
 * are those of `Export.cvRows` in @tunekit/core (scikit-learn's `cv_results_`).
 *
 * @since 0.1.0
 */
import { Export, type Trial } from "@tunekit/core"
import type { Source } from "./Source.js"
import { objectiveIndex } from "./internal/target.js"

/** One trial's folds. */
export interface Row {
  readonly trial: number
  readonly state: Trial.State
  /** The score of each fold, null for a fold the trial did not run. */
  readonly scores: ReadonlyArray<number | null>
  readonly mean: number | null
  readonly std: number | null
  /** 1 for the best mean of the complete trials; null for other trials. */
  readonly rank: number | null
}

/** The data of a folds plot. */
export interface Data {
  readonly _tag: "Folds"
  readonly metric: string
  readonly direction: Trial.Direction
  readonly folds: number
  /** Trials with at least one fold, in order of number. */
  readonly trials: ReadonlyArray<Row>
}

/** Options of `make`. */
export interface Options {
  /** The fold score's metric (default: the study's objective name, or "score" when it has none). */
  readonly metric?: string
  /** The objective whose direction ranks the means (default the first). */
  readonly objective?: number | string
}

/**
 * The cross-validation folds of a study.
 *
 * @example
 * import { Folds, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Folds.make(study)
 * data.trials.map((r) => [r.trial, r.mean, r.std])
 */
export const make = (source: Source, options: Options = {}): Data => {
  const i = objectiveIndex(source, options.objective, "folds")
  const named = source.objectives[i]
  const metric = options.metric ?? (named === "value" || /^value \d+$/.test(named) ? "score" : named)
  const direction = source.directions[i]
  const rows = Export.cvRows([...source.trials].sort((a, b) => a.number - b.number), { direction, metric })
  return {
    _tag: "Folds",
    metric,
    direction,
    folds: rows[0]?.splits.length ?? 0,
    trials: rows
      .filter((r) => r.splits.some((s) => s !== null))
      .map((r) => ({ trial: r.number, state: r.state, scores: r.splits, mean: r.mean_test_score, std: r.std_test_score, rank: r.rank_test_score }))
  }
}
