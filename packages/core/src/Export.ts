/**
 * Export of a study's trials as rows (one a trial), CSV or JSON. The shape follows scikit-learn's
 * `cv_results_`: parameters as `params_NAME` columns, values, the rank of each complete trial.
 *
 * @since 0.1.0
 */
import type { Direction, FrozenTrial, Json } from "./Trial.js"
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
  const ranks = rankOf(trials, directions)
  return trials.map((t) => {
    const d = Trial.duration(t)
    return {
      number: t.number,
      state: t.state,
      params: Trial.paramValues(t),
      values: t.values === undefined ? null : [...t.values],
      rank: ranks.get(t.id) ?? null,
      duration_s: d === undefined ? null : d / 1000,
      user_attrs: t.userAttrs,
      reason: t.reason ?? null
    }
  })
}

/** Ranks complete trials by the first objective (ties share the lower rank, as scikit-learn's "min"). */
const rankOf = (trials: ReadonlyArray<FrozenTrial>, directions: ReadonlyArray<Direction>) => {
  const sign = directions[0] === "maximize" ? -1 : 1
  const done = trials.filter((t) => t.state === "Complete" && t.values !== undefined)
  const sorted = [...done].sort((a, b) => sign * (a.values![0] - b.values![0]))
  const out = new Map<number, number>()
  sorted.forEach((t, i) => {
    const prev = sorted[i - 1]
    out.set(t.id, prev !== undefined && prev.values![0] === t.values![0] ? out.get(prev.id)! : i + 1)
  })
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
