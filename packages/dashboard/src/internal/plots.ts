// The plots of the pages: @tunekit/plots' data (Kind: which plots apply, and their data) rendered
// to ECharts options for the browser. Each option is computed from the trials the feed holds, once
// per change of the study, and kept as JSON text for every page that asks.
import type { Storage, StorageError, Trial } from "@tunekit/core"
import { Intermediate, Kind, Plot, Rungs, Source } from "@tunekit/plots"
import { RungRecord } from "@tunekit/schedulers"
import { Effect, Either } from "effect"
import { derive, type Feed, type Followed, trialsOf } from "./feed.js"

/** What a page asks of a plot. */
export interface Request {
  readonly kind: Kind.Name
  /** Importance by "ped-anova" (the default here: milliseconds on thousands of trials) or "fanova". */
  readonly method?: "fanova" | "ped-anova"
  /** The rung resources (default: the scheduler's record in the study, else inferred, see `inferRungs`). */
  readonly rungs?: ReadonlyArray<number>
  /** The chart's width in pixels, as the page lays it out. */
  readonly width?: number
}

/** A plot for the page: an ECharts option and its height, or why there is none. */
export type Drawn =
  | { readonly option: Plot.EChartsOption; readonly width: number; readonly height: number }
  | { readonly note: string }

/** A study's plot source (a `Storage.StudyInfo` is a plot description). */
export const sourceOf = (info: Storage.StudyInfo, trials: ReadonlyArray<Trial.FrozenTrial>): Source.Source => Source.make(info, trials)

/** Whether a rung scheduler recorded its rungs and brackets in the study. */
const recorded = (info: Storage.StudyInfo) => RungRecord.read(info.systemAttrs) !== undefined

/**
 * The rung resources of a study run by a rung scheduler before schedulers recorded themselves
 * (`RungRecord`; its trials carry `tunekit.rung`): the steps where trials were stopped or paused,
 * which are rungs. Undefined for a study without rungs, or before any trial stopped at one.
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

/**
 * Every series drawn in one frame (ECharts' progressive rendering drew thousands of lines a slice
 * per frame, over seconds, while the page's other charts loaded), and a series of thousands of
 * points as plain values, scatter in ECharts' large mode (one path): 10,000 points drew in a third
 * of the time, from a third of the bytes. Their tooltips show the values.
 */
const lighten = (option: Plot.EChartsOption) => {
  const list = (option.series === undefined ? [] : Array.isArray(option.series) ? option.series : [option.series]) as Array<Record<string, unknown>>
  // Large mode draws every point in one colour: not for points a visual map colours.
  const coloured = option.visualMap !== undefined
  for (const series of list) {
    series.progressive = 0
    if (!Array.isArray(series.data) || series.data.length <= 2000) continue
    // Items that are a name and a value become the value (an item with a style of its own stays).
    series.data = series.data.map((d: unknown) =>
      d !== null && typeof d === "object" && !Array.isArray(d) && Object.keys(d).every((k) => k === "name" || k === "value") ? (d as { value: unknown }).value : d
    )
    if (series.type === "scatter" && !coloured) series.large = true
    // A step line (the best value so far) needs only the points where it changes, and its end.
    if (series.type === "line" && series.step !== undefined) series.data = stepsOnly(series.data as Array<unknown>)
  }
}

const stepsOnly = (data: ReadonlyArray<unknown>): Array<unknown> => {
  const y = (d: unknown) => (Array.isArray(d) ? d[1] : undefined)
  return data.filter((d, i) => i === 0 || i === data.length - 1 || y(d) === undefined || y(d) !== y(data[i - 1]))
}

const draw = (data: Effect.Effect<Plot.Data, { readonly message: string }>, width: number | undefined, note?: string): Drawn =>
  Either.match(Effect.runSync(Effect.either(data)), {
    onLeft: (e) => ({ note: e.message }),
    onRight: (d) => {
      const drawn = Plot.option(d, width === undefined ? {} : { width })
      lighten(drawn.option)
      const title = drawn.option.title as { text?: string } | undefined
      if (note !== undefined && title?.text !== undefined) title.text = `${title.text} (${note})`
      return drawn
    }
  })

/**
 * Plots whose chart draws a shape per trial are drawn from a part of a large study, said in
 * their title: a browser drew 1,000 learning curves in 0.7 s, 9,000 parallel-coordinate lines in
 * 1 s and 10,000 timeline bars in 0.6 s (ECharts on a loaded 2-core machine), once per redraw of
 * a live page.
 */
export const CAPS = { intermediate: 300, parallelCoordinates: 2000, timeline: 2000 }

const count = (n: number) => n.toLocaleString("en-US")

/** Numbers in options with 6 significant digits: a chart shows 4, and 17 made its JSON half again as long. */
const sixDigits = (_: string, v: unknown) => (typeof v === "number" && !Number.isInteger(v) && Number.isFinite(v) ? Number(v.toPrecision(6)) : v)

/** The trials a plot is drawn from, and what was left out. */
const capped = (kind: Kind.Name, info: Storage.StudyInfo, trials: ReadonlyArray<Trial.FrozenTrial>) => {
  if (kind === "intermediate") {
    const curves = trials.filter((t) => t.intermediate.length > 0)
    if (curves.length <= CAPS.intermediate) return { trials }
    // The latest curves: what a live page is for.
    const keep = new Set(curves.slice(-CAPS.intermediate))
    return { trials: trials.filter((t) => t.intermediate.length === 0 || keep.has(t)), note: `the latest ${count(CAPS.intermediate)} of ${count(curves.length)} curves` }
  }
  if (kind === "timeline" && trials.length > CAPS.timeline) {
    // The latest trials: what is running now and what just ran.
    return { trials: trials.slice(-CAPS.timeline), note: `the latest ${count(CAPS.timeline)} of ${count(trials.length)} trials` }
  }
  if (kind === "parallel-coordinates" && info.directions.length > 0) {
    const complete = trials.filter((t) => t.state === "Complete" && t.values !== undefined && Number.isFinite(t.values[0]))
    if (complete.length <= CAPS.parallelCoordinates) return { trials }
    // The best lines: where a good configuration lies.
    const sign = info.directions[0] === "minimize" ? 1 : -1
    const keep = new Set([...complete].sort((a, b) => sign * (a.values![0] - b.values![0])).slice(0, CAPS.parallelCoordinates))
    return { trials: trials.filter((t) => t.state !== "Complete" || keep.has(t)), note: `the best ${count(CAPS.parallelCoordinates)} of ${count(complete.length)} trials` }
  }
  return { trials }
}

const widthOf = (w: number | undefined) => (w === undefined ? undefined : Math.max(320, Math.min(2400, Math.round(w))))

/** A plot of a followed study, as JSON text. */
export const plot = (f: Followed, request: Request): string => {
  const width = widthOf(request.width)
  const method = request.method ?? "ped-anova"
  // Only a contour's option depends on the width (its cells' size): the others are shared by pages of any width.
  const key = `plot:${request.kind}:${method}:${request.rungs?.join(",") ?? ""}:${request.kind === "contour" ? width ?? "" : ""}`
  return derive(f, key, () => {
    const trials = trialsOf(f)
    const rungs = request.rungs ?? (request.kind === "rungs" && !recorded(f.info) ? inferRungs(trials) : undefined)
    const options: Kind.Options = { method, ...(rungs === undefined ? {} : { rungs }) }
    const part = capped(request.kind, f.info, trials)
    return JSON.stringify({ seq: f.seq, ...draw(Kind.make(request.kind, sourceOf(f.info, part.trials), options), width, part.note) }, sixDigits)
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

/**
 * The plots that keep applying once they apply: trials are only added, and only gain reports,
 * parameters and marks. (Folds need every complete trial to report folds: a new one may not.)
 */
const lasting = (kind: Kind.Name) => kind !== "folds"

/** The plots that apply to a study now, with why the others do not. */
export const kinds = (f: Followed): Array<{ readonly kind: Kind.Name; readonly applies: boolean; readonly note?: string }> =>
  derive(f, "kinds", () => {
    // Checked again at each change of a live study: those that applied are not (each check reads every trial).
    const applied = (f.derived.get("kinds:applied")?.value ?? new Set()) as Set<Kind.Name>
    f.derived.set("kinds:applied", { seq: f.seq, value: applied })
    const trials = trialsOf(f)
    const source = sourceOf(f.info, trials)
    const ranked = () => recorded(f.info) || trials.some((t) => t.systemAttrs[Rungs.RUNG] !== undefined)
    return [...ORDER, ...Kind.names.filter((k) => !ORDER.includes(k))].map((kind) => {
      if (applied.has(kind)) return { kind, applies: true }
      const result = check(kind)
      if (result.applies && lasting(kind)) applied.add(kind)
      return result
    })
    function check(kind: Kind.Name): { readonly kind: Kind.Name; readonly applies: boolean; readonly note?: string } {
      // Rungs: shown for a study a rung scheduler ran, where the page can give the resources
      // when they cannot be inferred yet.
      if (kind === "rungs") {
        return ranked()
          ? { kind, applies: true }
          : { kind, applies: false, note: "no rung scheduler recorded itself in the study, and no trial was scheduled on rungs (successive halving, ASHA and Hyperband record their rungs in the study)" }
      }
      const why = Kind.check(kind, source)
      return why === undefined ? { kind, applies: true } : { kind, applies: false, note: why }
    }
  })

/**
 * Reads every study and draws the first screen of the pages of the most recently active ones
 * (their first `plots` plots that apply), one after another, letting requests through between
 * them: the first page a user opens after starting the dashboard finds them drawn.
 */
export const warm = (feed: Feed, studies: number, plots: number): Effect.Effect<void, StorageError> =>
  Effect.gen(function*() {
    const all = yield* feed.studies
    const recent = [...all].sort((a, b) => b.lastActive - a.lastActive).slice(0, studies)
    for (const s of recent) {
      const f = yield* Effect.catchTag(feed.study(s.name), "StudyNotFound", () => Effect.succeed(undefined))
      if (f === undefined) continue
      for (const k of kinds(f).filter((k) => k.applies).slice(0, plots)) {
        yield* Effect.yieldNow()
        plot(f, { kind: k.kind })
      }
    }
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
