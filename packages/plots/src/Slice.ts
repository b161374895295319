/**
 * Slice plots: for each parameter, the objective of every complete trial against the parameter's
 * value (Optuna's `plot_slice`); trials without the parameter are not in its panel.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import { InvalidPlot } from "./Errors.js"
import type { Source } from "./Source.js"
import { axesOf, type ParamAxis, valueOn } from "./internal/params.js"
import { resolve, type TargetOptions, valued } from "./internal/target.js"

/** One parameter's panel. */
export interface Panel {
  readonly axis: ParamAxis
  /** x: the parameter's value (a choice's index on a categorical axis). */
  readonly points: ReadonlyArray<{ readonly trial: number; readonly x: number; readonly value: number }>
}

/** The data of a slice plot. */
export interface Data {
  readonly _tag: "Slice"
  readonly objective: string
  readonly direction: Trial.Direction
  readonly panels: ReadonlyArray<Panel>
}

/** Options of `make`. */
export interface Options extends TargetOptions {
  /** The parameters (default: every parameter, sorted by name). */
  readonly params?: ReadonlyArray<string>
}

/**
 * A slice plot of a study.
 *
 * @example
 * import { Slice, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Slice.make(study, { params: ["lr"] })
 * data.panels[0].points.length // the complete trials that have lr
 */
export const make = (source: Source, options: Options = {}): Data => {
  const target = resolve(source, options, "slice")
  const rows = valued(source.trials, target)
  const axes = axesOf(source.trials, options.params, (reason) => {
    throw new InvalidPlot({ plot: "slice", reason })
  })
  return {
    _tag: "Slice",
    objective: target.name,
    direction: target.direction,
    panels: axes.map((axis) => ({
      axis,
      points: rows.flatMap(({ trial, value }) => {
        const x = valueOn(axis, trial)
        return x === undefined ? [] : [{ trial: trial.number, x, value }]
      })
    }))
  }
}
