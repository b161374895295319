/**
 * Rank plots: the complete trials in the planes of pairs of parameters, each coloured by its rank
 * in the objective (Optuna's `plot_rank`). Ranks rather than values keep a few outliers from
 * washing out the colours. With one parameter, the plane is the parameter against the objective.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import { InvalidPlot } from "./Errors.js"
import type { Source } from "./Source.js"
import { axesOf, type ParamAxis, valueOn } from "./internal/params.js"
import { resolve, type TargetOptions, valued } from "./internal/target.js"

/** A complete trial. */
export interface Point {
  readonly trial: number
  readonly value: number
  /** 0 for the best trial, 1 for the worst (ties share their mean rank). */
  readonly rank: number
  /** The trial's value on each axis, null where it lacks the parameter. */
  readonly params: ReadonlyArray<number | null>
}

/** The data of a rank plot. */
export interface Data {
  readonly _tag: "Rank"
  readonly objective: string
  readonly direction: Trial.Direction
  readonly axes: ReadonlyArray<ParamAxis>
  readonly points: ReadonlyArray<Point>
}

/** Options of `make`. */
export interface Options extends TargetOptions {
  /** The parameters (default: every parameter, sorted by name). */
  readonly params?: ReadonlyArray<string>
}

/** Ranks scaled to [0, 1], best first, ties sharing the mean of their positions. */
const ranks = (values: ReadonlyArray<number>, direction: Trial.Direction): Array<number> => {
  const n = values.length
  const sign = direction === "minimize" ? 1 : -1
  const order = values.map((_, i) => i).sort((a, b) => sign * (values[a] - values[b]))
  const out = new Array<number>(n)
  for (let i = 0; i < n;) {
    let j = i
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++
    const r = n === 1 ? 0 : (i + j) / 2 / (n - 1)
    for (let k = i; k <= j; k++) out[order[k]] = r
    i = j + 1
  }
  return out
}

/**
 * The rank plot of a study.
 *
 * @example
 * import { Rank, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Rank.make(study, { params: ["lr", "layers"] })
 * data.points.find((p) => p.rank === 0) // the best trial
 */
export const make = (source: Source, options: Options = {}): Data => {
  const target = resolve(source, options, "rank")
  const axes = axesOf(source.trials, options.params, (reason) => {
    throw new InvalidPlot({ plot: "rank", reason })
  })
  const rows = valued(source.trials, target)
  const r = ranks(rows.map((x) => x.value), target.direction)
  return {
    _tag: "Rank",
    objective: target.name,
    direction: target.direction,
    axes,
    points: rows.map(({ trial, value }, i) => ({ trial: trial.number, value, rank: r[i], params: axes.map((a) => valueOn(a, trial) ?? null) }))
  }
}
