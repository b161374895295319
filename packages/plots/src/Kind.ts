/**
 * The plots by name, as `tunekit plot KIND` and the report know them: whether a plot applies to a
 * study (and why not), and its data from one study or several. The names are those of the plot
 * modules in kebab case (`ParallelCoordinates` is "parallel-coordinates").
 *
 * A plot applies when the study has what it draws: parameters for the plots of parameters, two of
 * them for a contour, reports for learning curves, a PBT lineage, cross-validation folds, two or
 * three objectives for a Pareto front, a rung scheduler's record (or the resources given) for
 * rungs. A study that applies but has
 * no trials yet still gives a plot, with a note in place of the data.
 *
 * @since 0.1.0
 */
import { Export } from "@tunekit/core"
import { Pbt, RungRecord } from "@tunekit/schedulers"
import { Effect, Either } from "effect"
import * as Contour from "./Contour.js"
import * as Edf from "./Edf.js"
import { InvalidPlot, NotApplicable, UnknownPlot } from "./Errors.js"
import * as Folds from "./Folds.js"
import * as History from "./History.js"
import * as Importance from "./Importance.js"
import * as Intermediate from "./Intermediate.js"
import * as Lineage from "./Lineage.js"
import * as ParallelCoordinates from "./ParallelCoordinates.js"
import * as ParetoFront from "./ParetoFront.js"
import type * as Plot from "./Plot.js"
import * as Rank from "./Rank.js"
import * as Rungs from "./Rungs.js"
import * as Slice from "./Slice.js"
import type { Source } from "./Source.js"
import * as Timeline from "./Timeline.js"
import { names as paramNames } from "./internal/params.js"

/**
 * Every plot's name, in the order a report shows them.
 *
 * @example
 * import { Kind } from "@tunekit/plots"
 * Kind.names.includes("pareto-front") // true
 */
export const names = [
  "history",
  "importance",
  "parallel-coordinates",
  "contour",
  "slice",
  "rank",
  "edf",
  "intermediate",
  "rungs",
  "lineage",
  "folds",
  "pareto-front",
  "timeline"
] as const

/** A plot's name. */
export type Name = (typeof names)[number]

/**
 * The plots that overlay several studies (the first is the study, the others are compared with it).
 *
 * @example
 * import { Kind } from "@tunekit/plots"
 * Kind.overlays // ["history", "edf"]
 */
export const overlays: ReadonlyArray<Name> = ["history", "edf"]

/** The plots of parameters, which take `params`. */
export const ofParams: ReadonlyArray<Name> = ["importance", "parallel-coordinates", "contour", "slice", "rank"]

/** What the plots take beyond the study. */
export interface Options {
  /** The parameters of importance, parallel-coordinates, contour, slice and rank (default: every parameter). */
  readonly params?: ReadonlyArray<string>
  /** How importance is measured: "fanova" (default, as Optuna's) or "ped-anova". */
  readonly method?: "fanova" | "ped-anova"
  /**
   * The rung resources of a rung scheduler (`Asha.rungs(options)` of @tunekit/schedulers), as one
   * bracket, for the rungs plot. Default: the rungs and brackets the scheduler recorded in the
   * study (`RungRecord`).
   */
  readonly rungs?: ReadonlyArray<number>
}

/**
 * A name checked against `names`; an unknown one is an error that suggests a close name.
 *
 * @example
 * import { Kind } from "@tunekit/plots"
 * Kind.decode("history")  // Either.right("history")
 * Kind.decode("parallel") // Either.left(UnknownPlot: ... did you mean parallel-coordinates? ...)
 */
export const decode = (kind: string): Either.Either<Name, UnknownPlot> =>
  (names as ReadonlyArray<string>).includes(kind) ? Either.right(kind as Name) : Either.left(new UnknownPlot({ kind, known: names }))

/** The folds' metric as Folds shows it, when the trials report folds of it. */
const foldMetricOf = (source: Source): { readonly metric: string; readonly found: string | undefined } => {
  const { metric } = Folds.make({ ...source, trials: [] })
  return { metric, found: Export.foldMetric(source.trials, metric) }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/**
 * Why a plot does not apply to a study, or undefined when it does.
 *
 * @example
 * import { Kind, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * Kind.check("lineage", study) // "no trial has a PBT lineage (a study run with Pbt.layer has one)"
 */
export const check = (kind: Name, source: Source, options: Options = {}): string | undefined => {
  // Read only by the plots that need them: a live page checks every plot at each change.
  const paramsOf = () => options.params ?? paramNames(source.trials)
  const reported = () => source.trials.some((t) => t.intermediate.length > 0)
  switch (kind) {
    case "history":
    case "edf":
    case "timeline":
      return undefined
    case "importance":
    case "parallel-coordinates":
    case "slice":
    case "rank":
      return paramsOf().length === 0 ? "no trial has parameters yet" : undefined
    case "contour": {
      const params = paramsOf()
      return params.length >= 2
        ? undefined
        : params.length === 0
        ? "no trial has parameters yet"
        : `a contour needs two parameters, and the study has one (${params[0]}): slice shows one parameter`
    }
    case "intermediate":
      return reported() ? undefined : "no trial reported intermediate values (trial.report)"
    case "rungs":
      return options.rungs === undefined && RungRecord.read(source.systemAttrs ?? {}) === undefined
        ? "the study has no record of a rung scheduler (Asha, SuccessiveHalving and Hyperband layers record theirs at their first rung), and no rung resources were given (--rungs 1,3,9, or Asha.rungs of the scheduler's options)"
        : reported()
        ? undefined
        : "no trial reported intermediate values, which a rung scheduler compares"
    case "lineage":
      return source.trials.some((t) => Pbt.lineageOf(t) !== undefined) ? undefined : "no trial has a PBT lineage (a study run with Pbt.layer has one)"
    case "folds": {
      const { metric, found } = foldMetricOf(source)
      return found !== undefined
        ? undefined
        : `its complete trials do not report "${metric}" by fold (at steps 0, 1, ... with their mean as the value, as CrossValidation.objective does)`
    }
    case "pareto-front": {
      const n = source.directions.length
      return n === 2 || n === 3 ? undefined : `it has ${plural(n, "objective")}, and a Pareto front shows 2 or 3`
    }
  }
}

/**
 * The plots that apply to a study, in the order of `names`.
 *
 * @example
 * import { Kind, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * Kind.applicable(study) // ["history", "importance", "parallel-coordinates", ...]
 */
export const applicable = (source: Source, options: Options = {}): Array<Name> => names.filter((k) => check(k, source, options) === undefined)

const dataOf = (kind: Name, sources: ReadonlyArray<Source>, options: Options): Plot.Data => {
  const [source] = sources
  const params = options.params === undefined ? {} : { params: options.params }
  switch (kind) {
    case "history":
      return History.make(sources)
    case "edf":
      return Edf.make(sources)
    case "importance":
      return options.method === "ped-anova" ? Importance.pedAnova(source, params) : Importance.fanova(source, params)
    case "parallel-coordinates":
      return ParallelCoordinates.make(source, params)
    case "contour":
      return Contour.make(source, params)
    case "slice":
      return Slice.make(source, params)
    case "rank":
      return Rank.make(source, params)
    case "intermediate":
      return Intermediate.make(source)
    case "rungs":
      return Rungs.make(source, options.rungs === undefined ? {} : { rungs: options.rungs })
    case "lineage":
      return Lineage.make(source)
    case "folds":
      return Folds.make(source, { metric: foldMetricOf(source).found })
    case "pareto-front":
      return ParetoFront.make(source)
    case "timeline":
      return Timeline.make(source)
  }
}

/**
 * A plot's data: of the first study, or of them all for the plots that overlay studies. Fails
 * with NotApplicable (why, and the plots that apply) or InvalidPlot (a parameter no trial has,
 * several studies for a plot of one).
 *
 * @example
 * import { Effect } from "effect"
 * import { Kind, Plot, Source } from "@tunekit/plots"
 * declare const tpe: Source.Source
 * declare const random: Source.Source
 * const svg = Kind.make("history", [tpe, random]).pipe(Effect.map((data) => Plot.toSvg(data)))
 */
export const make = (
  kind: Name,
  sources: Source | ReadonlyArray<Source>,
  options: Options = {}
): Effect.Effect<Plot.Data, NotApplicable | InvalidPlot> =>
  Effect.suspend((): Effect.Effect<Plot.Data, NotApplicable | InvalidPlot> => {
    const list = "trials" in sources ? [sources as Source] : (sources as ReadonlyArray<Source>)
    if (list.length === 0) return Effect.fail(new InvalidPlot({ plot: kind, reason: "no study to plot" }))
    if (list.length > 1 && !overlays.includes(kind)) {
      return Effect.fail(new InvalidPlot({ plot: kind, reason: `it shows one study; ${overlays.join(" and ")} overlay several` }))
    }
    if (options.params !== undefined && !ofParams.includes(kind)) {
      return Effect.fail(new InvalidPlot({ plot: kind, reason: `it takes no parameters; ${ofParams.join(", ")} do` }))
    }
    for (const s of list) {
      const reason = check(kind, s, options)
      if (reason !== undefined) return Effect.fail(new NotApplicable({ kind, study: s.name, reason, applicable: applicable(s, options) }))
    }
    // The plot functions throw InvalidPlot for what the study cannot give; anything else is a defect.
    try {
      return Effect.succeed(dataOf(kind, list, options))
    } catch (e) {
      if (e instanceof InvalidPlot) return Effect.fail(e)
      throw e
    }
  })
