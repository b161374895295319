/**
 * The empirical distribution function of the objective over the complete trials of one or several
 * studies (Optuna's `plot_edf`): for each value, the fraction of a study's trials at or below it.
 * A curve further left and higher is a study that found good values more often, which compares
 * samplers or search spaces on the same problem.
 *
 * @since 0.1.0
 */
import type { Source } from "./Source.js"
import { resolve, type TargetOptions, valued } from "./internal/target.js"

/** One study's distribution: its values in increasing order, each with the fraction at or below it. */
export interface Series {
  readonly study: string
  readonly points: ReadonlyArray<{ readonly value: number; readonly fraction: number }>
}

/** The data of an EDF plot. */
export interface Data {
  readonly _tag: "Edf"
  readonly objective: string
  readonly studies: ReadonlyArray<Series>
}

/** Options of `make`. */
export interface Options extends TargetOptions {}

/**
 * The EDF of one or several studies.
 *
 * @example
 * import { Edf, Source } from "@tunekit/plots"
 * declare const tpe: Source.Source
 * declare const random: Source.Source
 * const data = Edf.make([tpe, random])
 */
export const make = (sources: Source | ReadonlyArray<Source>, options: Options = {}): Data => {
  const list = "trials" in sources ? [sources as Source] : (sources as ReadonlyArray<Source>)
  const targets = list.map((s) => resolve(s, options, "edf"))
  return {
    _tag: "Edf",
    objective: targets[0]?.name ?? "value",
    studies: list.map((s, k) => {
      const values = valued(s.trials, targets[k]).map((v) => v.value).sort((a, b) => a - b)
      // One point per distinct value, at the fraction of values up to and including it.
      const points: Array<{ value: number; fraction: number }> = []
      values.forEach((value, i) => {
        if (i + 1 < values.length && values[i + 1] === value) return
        points.push({ value, fraction: (i + 1) / values.length })
      })
      return { study: s.name, points }
    })
  }
}
