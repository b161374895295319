/**
 * Contour plots of pairs of parameters: the complete trials as points in the plane of two
 * parameters, over a surface of the objective (Optuna's `plot_contour`). The surface between the
 * trials is an inverse-distance-weighted interpolation (Shepard 1968) in the parameters' unit space
 * (log scales in log space, each choice of a categorical in the middle of its cell): it passes
 * through every trial's value and shows where good trials lie, not a model's prediction.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import { InvalidPlot } from "./Errors.js"
import type { Source } from "./Source.js"
import { axesOf, fromUnit, type ParamAxis, toUnit, valueOn } from "./internal/params.js"
import { resolve, type TargetOptions, valued } from "./internal/target.js"

/** The interpolated surface: `z[j][i]` is the value at (`xs[i]`, `ys[j]`); null where no trial is. */
export interface Grid {
  readonly xs: ReadonlyArray<number>
  readonly ys: ReadonlyArray<number>
  readonly z: ReadonlyArray<ReadonlyArray<number | null>>
}

/** One pair of parameters. */
export interface Panel {
  readonly x: ParamAxis
  readonly y: ParamAxis
  /** The complete trials that have both parameters. */
  readonly points: ReadonlyArray<{ readonly trial: number; readonly x: number; readonly y: number; readonly value: number }>
  readonly grid: Grid
}

/** The data of a contour plot. */
export interface Data {
  readonly _tag: "Contour"
  readonly objective: string
  readonly direction: Trial.Direction
  /** One panel per pair of the parameters (x before y in the parameters' order). */
  readonly panels: ReadonlyArray<Panel>
}

/** Options of `make`. */
export interface Options extends TargetOptions {
  /** The parameters, two or more (default: every parameter): one panel per pair. */
  readonly params?: ReadonlyArray<string>
  /** Grid points along a numeric axis (default 40; a categorical axis has one per choice). */
  readonly resolution?: number
}

const fail = (reason: string): never => {
  throw new InvalidPlot({ plot: "contour", reason })
}

/** The grid along an axis: each choice; each value of an integer or stepped axis when there are at most `n`; else `n` points. */
const gridOf = (axis: ParamAxis, n: number): Array<number> => {
  if (axis.choices !== undefined) return axis.choices.map((_, i) => i)
  const [lo, hi] = axis.range
  const values = axis.step !== undefined ? Math.round((hi - lo) / axis.step) + 1 : Infinity
  if (values <= n) return Array.from({ length: values }, (_, k) => Number((lo + k * axis.step!).toPrecision(12)))
  return Array.from({ length: n }, (_, i) => Number(fromUnit(axis, n === 1 ? 0.5 : i / (n - 1)).toPrecision(12)))
}

/** Shepard's interpolation with weights 1/d²; a grid point on a trial takes that trial's value. */
const surface = (x: ParamAxis, y: ParamAxis, points: Panel["points"], resolution: number): Grid => {
  const xs = gridOf(x, resolution)
  const ys = gridOf(y, resolution)
  const px = points.map((p) => toUnit(x, p.x))
  const py = points.map((p) => toUnit(y, p.y))
  const z = ys.map((gy) =>
    xs.map((gx) => {
      if (points.length === 0) return null
      const ux = toUnit(x, gx)
      const uy = toUnit(y, gy)
      let sw = 0
      let sv = 0
      let hits = 0
      let hit = 0
      for (let k = 0; k < points.length; k++) {
        const d2 = (px[k] - ux) ** 2 + (py[k] - uy) ** 2
        if (d2 < 1e-18) {
          hits++
          hit += points[k].value
        } else {
          sw += 1 / d2
          sv += points[k].value / d2
        }
      }
      return hits > 0 ? hit / hits : sv / sw
    })
  )
  return { xs, ys, z }
}

/**
 * The contour panels of a study.
 *
 * @example
 * import { Contour, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Contour.make(study, { params: ["lr", "dropout"] })
 * data.panels[0].grid.z // 40 x 40 values of the loss between the trials (an integer axis: one per integer, up to 40)
 */
export const make = (source: Source, options: Options = {}): Data => {
  const resolution = options.resolution ?? 40
  if (!(Number.isInteger(resolution) && resolution >= 2 && resolution <= 500)) fail(`resolution must be an integer in [2, 500], got ${resolution}`)
  const target = resolve(source, options, "contour")
  const axes = axesOf(source.trials, options.params, fail)
  if (options.params !== undefined && axes.length < 2) fail(`a contour needs two parameters, got ${axes.length}`)
  const rows = valued(source.trials, target)
  const panels: Array<Panel> = []
  for (let i = 0; i < axes.length; i++) {
    for (let j = i + 1; j < axes.length; j++) {
      const [x, y] = [axes[i], axes[j]]
      const points = rows.flatMap(({ trial, value }) => {
        const px = valueOn(x, trial)
        const py = valueOn(y, trial)
        return px === undefined || py === undefined ? [] : [{ trial: trial.number, x: px, y: py, value }]
      })
      panels.push({ x, y, points, grid: surface(x, y, points, resolution) })
    }
  }
  return { _tag: "Contour", objective: target.name, direction: target.direction, panels }
}
