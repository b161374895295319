// The plots of the pages: @tunekit/plots' data (Kind: which plots apply, and their data) rendered
// to ECharts options for the browser. Each option is computed from the trials the feed holds, once
// per change of the study, and kept as JSON text for every page that asks.
import type { Storage, Trial } from "@tunekit/core"
import { Intermediate, Kind, Plot, Rungs, Source } from "@tunekit/plots"
import { Effect, Either } from "effect"
import { derive, type Followed, trialsOf } from "./feed.js"
import { objectivesOf } from "./rows.js"

/** What a page asks of a plot. */
export interface Request {
  readonly kind: Kind.Name
  /** Importance by "ped-anova" (the default here: milliseconds on thousands of trials) or "fanova". */
  readonly method?: "fanova" | "ped-anova"
  /** The rung resources (default: inferred, see `inferRungs`). */
  readonly rungs?: ReadonlyArray<number>
  /** The chart's width in pixels, as the page lays it out. */
  readonly width?: number
}

/** A plot for the page: an ECharts option and its height, or why there is none. */
export type Drawn =
  | { readonly option: Plot.EChartsOption; readonly width: number; readonly height: number }
  | { readonly note: string }

export const sourceOf = (info: Storage.StudyInfo, trials: ReadonlyArray<Trial.FrozenTrial>): Source.Source =>
  Source.make({ name: info.name, directions: info.directions, metrics: objectivesOf(info) }, trials)

/**
 * The rung resources of a study run by a rung scheduler (its trials carry `tunekit.rung`), which
 * the study does not record: the steps where trials were stopped or paused, which are rungs.
 * Undefined for a study without rungs, or before any trial stopped at one.
 */
export const inferRungs = (trials: ReadonlyArray<Trial.FrozenTrial>): ReadonlyArray<number> | undefined => {
  if (!trials.some((t) => t.systemAttrs[Rungs.RUNG] !== undefined)) return undefined
  const steps = new Set<number>()
  for (const t of trials) {
    if ((t.state === "Pruned" || t.state === "Waiting") && t.intermediate.length > 0) steps.add(t.intermediate[t.intermediate.length - 1].step)
  }
  const rungs = [...steps].filter((s) => s > 0).sort((a, b) => a - b)
  return rungs.length === 0 ? undefined : rungs
}

const draw = (data: Effect.Effect<Plot.Data, { readonly message: string }>, width: number | undefined): Drawn =>
  Either.match(Effect.runSync(Effect.either(data)), {
    onLeft: (e) => ({ note: e.message }),
    onRight: (d) => Plot.option(d, width === undefined ? {} : { width })
  })

const widthOf = (w: number | undefined) => (w === undefined ? undefined : Math.max(320, Math.min(2400, Math.round(w))))

/** A plot of a followed study, as JSON text. */
export const plot = (f: Followed, request: Request): string => {
  const width = widthOf(request.width)
  const method = request.method ?? "ped-anova"
  const key = `plot:${request.kind}:${method}:${request.rungs?.join(",") ?? ""}:${width ?? ""}`
  return derive(f, key, () => {
    const trials = trialsOf(f)
    const rungs = request.rungs ?? (request.kind === "rungs" ? inferRungs(trials) : undefined)
    const options: Kind.Options = { method, ...(rungs === undefined ? {} : { rungs }) }
    return JSON.stringify({ seq: f.seq, ...draw(Kind.make(request.kind, sourceOf(f.info, trials), options), width) })
  })
}

/** The study page's order: what changes live first, then the plots of parameters. */
export const ORDER: ReadonlyArray<Kind.Name> = [
  "history",
  "intermediate",
  "importance",
  "parallel-coordinates",
  "pareto-front",
  "timeline",
  "rungs",
  "lineage",
  "folds",
  "slice",
  "contour",
  "rank",
  "edf"
]

/** The plots that apply to a study now, with why the others do not. */
export const kinds = (f: Followed): Array<{ readonly kind: Kind.Name; readonly applies: boolean; readonly note?: string }> =>
  derive(f, "kinds", () => {
    const trials = trialsOf(f)
    const rungs = inferRungs(trials)
    const source = sourceOf(f.info, trials)
    const ranked = trials.some((t) => t.systemAttrs[Rungs.RUNG] !== undefined)
    return [...ORDER, ...Kind.names.filter((k) => !ORDER.includes(k))].map((kind) => {
      // Rungs: shown for a study a rung scheduler ran, where the page can give the resources
      // when they cannot be inferred yet.
      if (kind === "rungs") {
        return ranked
          ? { kind, applies: true }
          : { kind, applies: false, note: "no trial was scheduled on rungs (successive halving, ASHA and Hyperband mark their trials)" }
      }
      const why = Kind.check(kind, source, rungs === undefined ? {} : { rungs })
      return why === undefined ? { kind, applies: true } : { kind, applies: false, note: why }
    })
  })

/** Several studies overlaid (history, EDF) for the comparison page. */
export const compare = (studies: ReadonlyArray<Followed>, kind: "history" | "edf", width: number | undefined): Drawn =>
  draw(Kind.make(kind, studies.map((f) => sourceOf(f.info, trialsOf(f)))), widthOf(width))

/** A trial's learning curves, one chart per metric it reported. */
export const curves = (info: Storage.StudyInfo, t: Trial.FrozenTrial, width: number | undefined): Array<Drawn> => {
  const source = sourceOf(info, [t])
  const metrics = [...new Set(t.intermediate.flatMap((m) => Object.keys(m.values)))]
  return metrics.map((metric) =>
    Plot.option(Intermediate.make(source, { metric }), { title: `${metric} by step`, height: 320, ...(widthOf(width) === undefined ? {} : { width: widthOf(width) }) })
  )
}
