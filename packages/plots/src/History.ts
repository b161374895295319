/**
 * The optimization history: each complete trial's value by trial number, and the best value so far
 * (Optuna's `plot_optimization_history`). Several studies are overlaid, one series each.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import type { Source } from "./Source.js"
import { resolve, type TargetOptions, valued } from "./internal/target.js"

/** One study's points and its best-so-far line. */
export interface Series {
  readonly study: string
  /** Complete trials with a finite value, in order of number. */
  readonly points: ReadonlyArray<{ readonly trial: number; readonly value: number }>
  /** The best value after each of those trials (same length as `points`). */
  readonly best: ReadonlyArray<{ readonly trial: number; readonly value: number }>
}

/** The data of an optimization history plot. */
export interface Data {
  readonly _tag: "History"
  /** The objective's name (the y axis). */
  readonly objective: string
  readonly direction: Trial.Direction
  readonly studies: ReadonlyArray<Series>
}

/** Options of `make`. */
export interface Options extends TargetOptions {}

/**
 * The history of one study, or of several overlaid (each shows the same objective, by index or
 * name, under its own direction).
 *
 * @example
 * import { History, Source } from "@tunekit/plots"
 * declare const a: Source.Source
 * declare const b: Source.Source
 * const data = History.make([a, b])
 * data.studies[0].best.at(-1) // the best value of study a
 */
export const make = (sources: Source | ReadonlyArray<Source>, options: Options = {}): Data => {
  const list = "trials" in sources ? [sources as Source] : (sources as ReadonlyArray<Source>)
  const targets = list.map((s) => resolve(s, options, "history"))
  const studies = list.map((s, k): Series => {
    const target = targets[k]
    const points = valued(s.trials, target).map(({ trial, value }) => ({ trial: trial.number, value }))
    let best: number | undefined
    const bests = points.map((p) => {
      if (best === undefined || (target.direction === "minimize" ? p.value < best : p.value > best)) best = p.value
      return { trial: p.trial, value: best }
    })
    return { study: s.name, points, best: bests }
  })
  return {
    _tag: "History",
    objective: targets[0]?.name ?? "value",
    direction: targets[0]?.direction ?? "minimize",
    studies
  }
}
