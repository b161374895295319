/**
 * Parallel coordinates: one vertical axis per parameter and one for the objective, and a line per
 * complete trial across them (Optuna's `plot_parallel_coordinate`). A trial without a parameter
 * (an inactive branch) has no point on that axis.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import { InvalidPlot } from "./Errors.js"
import type { Source } from "./Source.js"
import { axesOf, type ParamAxis, valueOn } from "./internal/params.js"
import { resolve, type TargetOptions, valued } from "./internal/target.js"

/** One trial's line. */
export interface Line {
  readonly trial: number
  readonly value: number
  /** The trial's value on each axis of `Data.axes` (a choice's index on a categorical), null where it lacks the parameter. */
  readonly params: ReadonlyArray<number | null>
}

/** The data of a parallel coordinates plot. */
export interface Data {
  readonly _tag: "ParallelCoordinates"
  readonly objective: string
  readonly direction: Trial.Direction
  readonly axes: ReadonlyArray<ParamAxis>
  readonly lines: ReadonlyArray<Line>
}

/** Options of `make`. */
export interface Options extends TargetOptions {
  /** The parameters, in order of the axes (default: every parameter, sorted by name). */
  readonly params?: ReadonlyArray<string>
}

/**
 * The parallel coordinates of a study's complete trials.
 *
 * @example
 * import { ParallelCoordinates, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = ParallelCoordinates.make(study, { params: ["lr", "layers", "activation"] })
 */
export const make = (source: Source, options: Options = {}): Data => {
  const target = resolve(source, options, "parallel coordinates")
  const axes = axesOf(source.trials, options.params, (reason) => {
    throw new InvalidPlot({ plot: "parallel coordinates", reason })
  })
  return {
    _tag: "ParallelCoordinates",
    objective: target.name,
    direction: target.direction,
    axes,
    lines: valued(source.trials, target).map(({ trial, value }) => ({
      trial: trial.number,
      value,
      params: axes.map((a) => valueOn(a, trial) ?? null)
    }))
  }
}
