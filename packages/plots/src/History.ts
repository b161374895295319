/**
 * The optimization history: each complete trial's value by trial number, and the best value so far
 * (Optuna's `plot_optimization_history`). Several studies are overlaid, one series each.
 *
 * A study with several objectives gets a panel per objective, each with its own best so far under
 * its own direction (Optuna asks for a `target` then, and shows one); `objective` or `target`
 * chooses one. The best of each objective is not a Pareto front: the Pareto front plot shows that.
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

/** One objective's history, of every study. */
export interface Panel {
  /** The objective's name (the y axis). */
  readonly objective: string
  readonly direction: Trial.Direction
  readonly studies: ReadonlyArray<Series>
}

/** The data of an optimization history plot. */
export interface Data extends Panel {
  readonly _tag: "History"
  /**
   * One panel per objective shown: each objective of a study with several, unless `objective` or
   * `target` chose one. `objective`, `direction` and `studies` above are the first panel's.
   */
  readonly panels: ReadonlyArray<Panel>
}

/** Options of `make`. */
export interface Options extends TargetOptions {}

const panelOf = (list: ReadonlyArray<Source>, options: TargetOptions): Panel => {
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
  return { objective: targets[0]?.name ?? "value", direction: targets[0]?.direction ?? "minimize", studies }
}

/**
 * The history of one study, or of several overlaid (each shows the same objective, by index or
 * name, under its own direction). Several objectives: a panel each, by index (studies compared
 * need as many).
 *
 * @example
 * import { History, Source } from "@tunekit/plots"
 * declare const a: Source.Source
 * declare const b: Source.Source
 * const data = History.make([a, b])
 * data.studies[0].best.at(-1) // the best value of study a
 * declare const mo: Source.Source // two objectives: loss, latency
 * History.make(mo).panels.map((p) => p.objective)           // ["loss", "latency"]
 * History.make(mo, { objective: "latency" }).panels.length // 1
 */
export const make = (sources: Source | ReadonlyArray<Source>, options: Options = {}): Data => {
  const list = "trials" in sources ? [sources as Source] : (sources as ReadonlyArray<Source>)
  const chosen = options.objective !== undefined || options.target !== undefined
  const n = chosen ? 1 : Math.max(1, list[0]?.directions.length ?? 1)
  const panels = n === 1 ? [panelOf(list, options)] : Array.from({ length: n }, (_, i) => panelOf(list, { objective: i }))
  return { _tag: "History", ...panels[0], panels }
}
