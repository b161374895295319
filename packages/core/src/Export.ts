/**
 * Export of a study's trials as rows (one a trial), CSV or JSON. The shape follows scikit-learn's
 * `cv_results_`: parameters as `params_NAME` columns, values, the rank of each complete trial.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import { Effect as E } from "effect"
import type { StorageError } from "./Errors.js"
import type { Handle } from "./Study.js"
import type { Direction, FrozenTrial, Json, State } from "./Trial.js"
import * as Trial from "./Trial.js"

/** One exported trial. */
export interface Row {
  readonly number: number
  readonly state: string
  readonly params: Readonly<Record<string, unknown>>
  readonly values: ReadonlyArray<number> | null
  /** 1 for the best complete trial (by the first objective); null for others than complete. */
  readonly rank: number | null
  readonly duration_s: number | null
  readonly user_attrs: Readonly<Record<string, Json>>
  readonly reason: string | null
}

/**
 * The rows of a study's trials.
 *
 * @example
 * import { Export } from "@tunekit/core"
 * declare const trials: ReadonlyArray<import("@tunekit/core").Trial.FrozenTrial>
 * const rows = Export.rows(trials, ["minimize"])
 */
export const rows = (trials: ReadonlyArray<FrozenTrial>, directions: ReadonlyArray<Direction>): ReadonlyArray<Row> => {
  const ranks = rankBy(trials, (t) => (t.state === "Complete" ? t.values?.[0] : undefined), directions[0])
  return trials.map((t) => {
    const d = Trial.duration(t)
    return {
      number: t.number,
      state: t.state,
      params: Trial.paramValues(t),
      values: t.values === undefined ? null : [...t.values],
      rank: ranks.get(t) ?? null,
      duration_s: d === undefined ? null : d / 1000,
      user_attrs: t.userAttrs,
      reason: t.reason ?? null
    }
  })
}

/** Ranks the items that have a score, best first; ties share the lower rank (scikit-learn's "min"). */
const rankBy = <T>(items: ReadonlyArray<T>, score: (t: T) => number | null | undefined, direction: Direction): Map<T, number> => {
  const sign = direction === "maximize" ? -1 : 1
  const scored = items.flatMap((t) => {
    const v = score(t)
    return v === null || v === undefined ? [] : [{ t, v }]
  }).sort((a, b) => sign * (a.v - b.v))
  const out = new Map<T, number>()
  scored.forEach(({ t, v }, i) => out.set(t, i > 0 && scored[i - 1].v === v ? out.get(scored[i - 1].t)! : i + 1))
  return out
}

/** The rows as JSON (an array, pretty-printed). */
export const toJson = (rs: ReadonlyArray<Row>): string => JSON.stringify(rs, null, 2)

/** One CSV cell: empty for null, JSON for objects, quoted where it holds a comma, quote or newline. */
export const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return ""
  const s = typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * The rows as CSV: number, state, one `params_NAME` column a parameter, `value` (or `values_0`,
 * `values_1`... for several objectives), rank, duration_s, one `user_attrs_NAME` column an
 * attribute, reason.
 */
export const toCsv = (rs: ReadonlyArray<Row>, objectives = 1): string => {
  const params = [...new Set(rs.flatMap((r) => Object.keys(r.params)))]
  const attrs = [...new Set(rs.flatMap((r) => Object.keys(r.user_attrs)))]
  const valueCols = objectives === 1 ? ["value"] : Array.from({ length: objectives }, (_, i) => `values_${i}`)
  const header = ["number", "state", ...params.map((p) => `params_${p}`), ...valueCols, "rank", "duration_s", ...attrs.map((a) => `user_attrs_${a}`), "reason"]
  const lines = rs.map((r) =>
    [
      r.number,
      r.state,
      ...params.map((p) => r.params[p]),
      ...valueCols.map((_, i) => r.values?.[i]),
      r.rank,
      r.duration_s,
      ...attrs.map((a) => r.user_attrs[a]),
      r.reason
    ].map(csvCell).join(",")
  )
  return [header.map(csvCell).join(","), ...lines].join("\n") + "\n"
}

/** One row of the cross-validation results table (scikit-learn's `cv_results_`). */
export interface CvRow {
  readonly number: number
  readonly state: State
  readonly params: Readonly<Record<string, unknown>>
  /** Each fold's score, by fold index; null where the fold was not reached (a pruned trial). */
  readonly splits: ReadonlyArray<number | null>
  /** Mean and population standard deviation of the scores reported (as numpy's `std`). */
  readonly mean_test_score: number | null
  readonly std_test_score: number | null
  /** 1 for the best complete trial; ties share the lower rank; null for trials not complete. */
  readonly rank_test_score: number | null
}

const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length

/**
 * The trials of a cross-validated study as scikit-learn's `cv_results_`: each fold's score from
 * the stored metric at steps 0, 1, ... (`split0_test_score`, ...), their mean and standard
 * deviation, and the rank of the complete trials by mean, best first in the study's direction.
 *
 * @example
 * import { Export } from "@tunekit/core"
 * declare const trials: ReadonlyArray<import("@tunekit/core").Trial.FrozenTrial>
 * const table = Export.cvRows(trials, { direction: "maximize", metric: "score" })
 * console.log(Export.cvToCsv(table))
 */
export const cvRows = (
  trials: ReadonlyArray<FrozenTrial>,
  options: { readonly direction: Direction; readonly metric?: string }
): ReadonlyArray<CvRow> => {
  const metric = options.metric ?? "score"
  let folds = 0
  for (const t of trials) for (const [step] of Trial.series(t, metric)) if (Number.isInteger(step) && step + 1 > folds) folds = step + 1
  const table = trials.map((t) => {
    const splits: Array<number | null> = new Array(folds).fill(null)
    for (const [step, v] of Trial.series(t, metric)) if (Number.isInteger(step) && step >= 0) splits[step] = v
    const seen = splits.filter((v): v is number => v !== null)
    const m = seen.length === 0 ? null : mean(seen)
    const std = m === null ? null : Math.sqrt(mean(seen.map((v) => (v - m) ** 2)))
    return { number: t.number, state: t.state, params: Trial.paramValues(t), splits, mean_test_score: m, std_test_score: std }
  })
  const ranks = rankBy(table, (r) => (r.state === "Complete" ? r.mean_test_score : undefined), options.direction)
  return table.map((r) => ({ ...r, rank_test_score: ranks.get(r) ?? null }))
}

/**
 * The metric that holds a study's fold scores, when the study is cross-validated; undefined when
 * its steps are something else (epochs, samples). Storage does not say what a step is, so this
 * checks what `cv_results_` means: every complete trial reports the metric at steps 0, 1, ..., k-1
 * (k >= 2) and its value is the mean of those scores. A trained model's value is its last or best
 * epoch's, not the mean over its epochs. `metric` is tried first, then the name without a `mean_`
 * prefix (a study of `CrossValidation.evaluate` tracks `mean_score` and reports each fold as
 * `score`).
 *
 * @example
 * import { Export } from "@tunekit/core"
 * declare const trials: ReadonlyArray<import("@tunekit/core").Trial.FrozenTrial>
 * const metric = Export.foldMetric(trials, "score")
 * if (metric === undefined) console.log("not a cross-validated study")
 */
export const foldMetric = (trials: ReadonlyArray<FrozenTrial>, metric: string): string | undefined => {
  const complete = trials.filter((t) => t.state === "Complete" && t.values !== undefined)
  const isFolds = (m: string) =>
    complete.length > 0 && complete.every((t) => {
      const scores = Trial.series(t, m)
      if (scores.length < 2 || scores.some(([step], i) => step !== i)) return false
      const m0 = mean(scores.map(([, v]) => v))
      return Math.abs(t.values![0] - m0) <= 1e-9 * Math.max(1, Math.abs(m0))
    })
  return [metric, metric.replace(/^mean_/, "")].find(isFolds)
}

/**
 * The cross-validation table of an open study, with its objective's metric and direction (a
 * study that names no metric: the fold scores are read as "score").
 *
 * @example
 * import { Effect } from "effect"
 * import { Export, Study } from "@tunekit/core"
 * declare const study: Study.Handle<unknown>
 * const csv = Effect.map(Export.cvRowsOf(study), Export.cvToCsv)
 */
export const cvRowsOf = <A>(study: Handle<A>): Effect.Effect<ReadonlyArray<CvRow>, StorageError> =>
  E.map(study.trials, (trials) => {
    const objective = study.objectives[0]
    return cvRows(trials, { direction: objective.direction, metric: objective.metric === "value" ? "score" : objective.metric })
  })

/**
 * The table as flat records with scikit-learn's column names: `number`, `state`, `param_NAME`...,
 * `split0_test_score`..., `mean_test_score`, `std_test_score`, `rank_test_score`.
 */
export const cvRecords = (table: ReadonlyArray<CvRow>): Array<Record<string, unknown>> => {
  const params = [...new Set(table.flatMap((r) => Object.keys(r.params)))]
  return table.map((r) => {
    const rec: Record<string, unknown> = { number: r.number, state: r.state }
    for (const p of params) rec[`param_${p}`] = r.params[p] ?? null
    r.splits.forEach((v, i) => (rec[`split${i}_test_score`] = v))
    rec.mean_test_score = r.mean_test_score
    rec.std_test_score = r.std_test_score
    rec.rank_test_score = r.rank_test_score
    return rec
  })
}

/** The table as CSV, with the columns of `cvRecords`. */
export const cvToCsv = (table: ReadonlyArray<CvRow>): string => {
  const recs = cvRecords(table)
  const cols = [...new Set(recs.flatMap((r) => Object.keys(r)))]
  return [cols.join(","), ...recs.map((r) => cols.map((c) => csvCell(r[c])).join(","))].join("\n") + "\n"
}
