/**
 * The Pareto front of a study with 2 or 3 objectives: every complete trial in objective space,
 * those no other complete trial dominates marked (Optuna's `plot_pareto_front`), and the
 * hypervolume of the front after each trial finished (Optuna's `plot_hypervolume_history`), the
 * standard measure of a multi-objective study's progress.
 *
 * @since 0.1.0
 */
import { Study, type Trial } from "@tunekit/core"
import { Hypervolume } from "@tunekit/samplers"
import { InvalidPlot } from "./Errors.js"
import type { Source } from "./Source.js"
import { objectiveIndex } from "./internal/target.js"

/** A complete trial in objective space. */
export interface Point {
  readonly trial: number
  /** The values of the plotted objectives, in the order of `Data.objectives`. */
  readonly values: ReadonlyArray<number>
  /** On the Pareto front of the plotted objectives. */
  readonly front: boolean
}

/** The data of a Pareto front plot. */
export interface Data {
  readonly _tag: "ParetoFront"
  /** Two or three objective names. */
  readonly objectives: ReadonlyArray<string>
  readonly directions: ReadonlyArray<Trial.Direction>
  readonly points: ReadonlyArray<Point>
  /** The hypervolume after each complete trial, in the order they finished. */
  readonly hypervolume: {
    /** The reference point, in the objectives' own units and directions. */
    readonly reference: ReadonlyArray<number>
    readonly history: ReadonlyArray<{ readonly trial: number; readonly value: number }>
  }
}

/** Options of `make`. */
export interface Options {
  /** The objectives, 2 or 3 of them, by index or name (default: the study's, when it has 2 or 3). */
  readonly objectives?: ReadonlyArray<number | string>
  /**
   * The hypervolume's reference point (one value per plotted objective, worse than the results of
   * interest). Default: each objective's worst complete value, moved 10% of its range further away.
   */
  readonly reference?: ReadonlyArray<number>
}

const fail = (reason: string): never => {
  throw new InvalidPlot({ plot: "pareto front", reason })
}

/** Each objective's worst value, pushed 10% of its range further (or 10% of its size when the range is 0). */
const defaultReference = (points: ReadonlyArray<ReadonlyArray<number>>, directions: ReadonlyArray<Trial.Direction>) =>
  directions.map((d, i) => {
    const xs = points.map((p) => p[i])
    if (xs.length === 0) return d === "minimize" ? 1 : 0
    const lo = xs.reduce((a, b) => Math.min(a, b))
    const hi = xs.reduce((a, b) => Math.max(a, b))
    const pad = hi > lo ? 0.1 * (hi - lo) : Math.max(0.1 * Math.abs(hi), 1e-9)
    return d === "minimize" ? hi + pad : lo - pad
  })

/**
 * The Pareto front of a study and its hypervolume over time.
 *
 * @example
 * import { ParetoFront, Source } from "@tunekit/plots"
 * declare const study: Source.Source // directions: ["minimize", "maximize"]
 * const data = ParetoFront.make(study)
 * data.points.filter((p) => p.front).map((p) => p.trial) // the trials on the front
 * data.hypervolume.history.at(-1)?.value // the final hypervolume
 */
export const make = (source: Source, options: Options = {}): Data => {
  const chosen = (options.objectives ?? source.directions.map((_, i) => i)).map((o) => objectiveIndex(source, o, "pareto front"))
  if (chosen.length < 2 || chosen.length > 3) {
    fail(`a Pareto front plot shows 2 or 3 objectives; the study "${source.name}" has ${source.directions.length}${options.objectives ? ` and ${chosen.length} were chosen` : " (choose them with `objectives`)"}`)
  }
  const directions = chosen.map((i) => source.directions[i])
  const complete = source.trials
    .filter((t) => t.state === "Complete" && t.values !== undefined && chosen.every((i) => Number.isFinite(t.values![i])))
    .map((t) => ({ t, values: chosen.map((i) => t.values![i]) }))
  const reference = options.reference ?? defaultReference(complete.map((c) => c.values), directions)
  if (reference.length !== chosen.length || !reference.every(Number.isFinite)) {
    fail(`the reference needs ${chosen.length} finite values, got ${JSON.stringify(reference)}`)
  }
  const dominated = (v: ReadonlyArray<number>, among: ReadonlyArray<ReadonlyArray<number>>) => among.some((o) => Study.dominates(o, v, directions))
  const all = complete.map((c) => c.values)
  const points = [...complete]
    .sort((a, b) => a.t.number - b.t.number)
    .map(({ t, values }) => ({ trial: t.number, values, front: !dominated(values, all) }))
  // The hypervolume changes only when a finished trial joins the front: recompute it then.
  const toMin = (v: ReadonlyArray<number>) => v.map((x, i) => (directions[i] === "minimize" ? x : -x))
  const refMin = toMin(reference)
  const byFinish = [...complete].sort((a, b) => (a.t.finishedAt ?? 0) - (b.t.finishedAt ?? 0) || a.t.number - b.t.number)
  let front: Array<ReadonlyArray<number>> = []
  let hv = 0
  const history = byFinish.map(({ t, values }) => {
    if (!dominated(values, front) && !front.some((f) => f.every((x, i) => x === values[i]))) {
      front = [...front.filter((f) => !Study.dominates(values, f, directions)), values]
      hv = Hypervolume.compute(front.map(toMin), refMin)
    }
    return { trial: t.number, value: hv }
  })
  return {
    _tag: "ParetoFront",
    objectives: chosen.map((i) => source.objectives[i]),
    directions,
    points,
    hypervolume: { reference, history }
  }
}
