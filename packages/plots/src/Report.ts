/**
 * A study's report: one self-contained HTML file that works offline (ECharts inlined, nothing
 * fetched), with the study's settings (objectives, trials by state, when it ran, what the sampler
 * recorded, its attributes), its best trials (or Pareto front), and every plot that applies to
 * it, interactive. The plots that do not apply are listed with the reason. Every string of the
 * study reaches the page as escaped text or JSON data. `tunekit report` is `Report.write`.
 *
 * @since 0.1.0
 */
import { Storage, type StorageError, type StudyNotFound, type Trial } from "@tunekit/core"
import { Effect, Either } from "effect"
import { UnsupportedFormat, type WriteFailed } from "./Errors.js"
import * as Importance from "./Importance.js"
import * as Kind from "./Kind.js"
import * as Plot from "./Plot.js"
import * as Source from "./Source.js"
import { names as paramNames } from "./internal/params.js"
import { escapeHtml, figure, page } from "./internal/render/page.js"
import { best, settings, STYLE, type StudyInfo } from "./internal/render/report.js"
import { writeFile } from "./internal/write.js"

/** The study a report is of (a `Storage.StudyInfo` fits). */
export interface Study extends Source.StudyLike, StudyInfo {}

/** Options of a report. */
export interface Options extends Pick<Kind.Options, "method" | "rungs"> {
  /** Rows of the best trials' table (default 10). */
  readonly best?: number
  /**
   * The parameters of the contour and rank plots, the most important first (default 4): a pair
   * of every parameter grows as the square of their number.
   */
  readonly pairs?: number
  /** The time the report says it was made (default now; milliseconds since the epoch). */
  readonly now?: number
}

/** A report, with what it shows. */
export interface Report {
  readonly html: string
  /** The plots it shows, in order. */
  readonly plots: ReadonlyArray<Kind.Name>
  /** The plots that did not apply, and why. */
  readonly skipped: ReadonlyArray<{ readonly kind: Kind.Name; readonly reason: string }>
}

/** The parameters of the plots of pairs when the study has more than `pairs`: the most important ones. */
const pairParams = (source: Source.Source, importance: Plot.Data | undefined, pairs: number): ReadonlyArray<string> | undefined => {
  const all = paramNames(source.trials)
  if (all.length <= pairs) return undefined
  const ranked = importance?._tag === "Importance" ? importance.params : []
  return (ranked.length >= 2 ? ranked : all).slice(0, pairs)
}

/**
 * The report of a study and its trials.
 *
 * @example
 * import * as fs from "node:fs"
 * import { Report } from "@tunekit/plots"
 * import type { Storage, Trial } from "@tunekit/core"
 * declare const info: Storage.StudyInfo
 * declare const trials: ReadonlyArray<Trial.FrozenTrial>
 * const report = Report.make(info, trials)
 * fs.writeFileSync("report.html", report.html)
 * report.skipped // [{ kind: "lineage", reason: "no trial has a PBT lineage ..." }, ...]
 */
export const make = (study: Study, trials: ReadonlyArray<Trial.FrozenTrial>, options: Options = {}): Report => {
  const limit = options.best ?? 10
  const pairs = options.pairs ?? 4
  for (const [k, v] of [["best", limit], ["pairs", pairs]] as const) {
    if (!(Number.isInteger(v) && v >= (k === "pairs" ? 2 : 1))) throw new RangeError(`a report's ${k} must be an integer of at least ${k === "pairs" ? 2 : 1}, got ${v}`)
  }
  const source = Source.make(study, trials)
  const kindOptions: Kind.Options = { ...(options.method ? { method: options.method } : {}), ...(options.rungs ? { rungs: options.rungs } : {}) }
  const charts: Array<{ kind: Kind.Name; chart: ReturnType<typeof Plot.option> }> = []
  const skipped: Array<{ kind: Kind.Name; reason: string }> = []
  let importance: Plot.Data | undefined
  for (const kind of Kind.names) {
    const limited = kind === "contour" || kind === "rank" ? pairParams(source, importance, pairs) : undefined
    const made = Effect.runSync(Effect.either(Kind.make(kind, source, limited === undefined ? kindOptions : { ...kindOptions, params: limited })))
    if (Either.isLeft(made)) {
      skipped.push({ kind, reason: made.left._tag === "NotApplicable" ? made.left.reason : made.left.message })
      continue
    }
    if (kind === "importance") importance = made.right
    const title = limited === undefined ? undefined : `${kind === "contour" ? "Contour" : "Rank"}: the ${limited.length} most important parameters`
    charts.push({ kind, chart: Plot.option(made.right, title === undefined ? {} : { title }) })
  }
  const now = options.now ?? Date.now()
  const nav = [
    `<a href="#settings">Study</a>`,
    `<a href="#best">${study.directions.length === 1 ? "Best trials" : "Pareto front"}</a>`,
    ...charts.map(({ kind }) => `<a href="#plot-${kind}">${kind}</a>`),
    ...(skipped.length === 0 ? [] : [`<a href="#skipped">not shown</a>`])
  ]
  const body = `<header><h1>${escapeHtml(study.name)}</h1>
<p>tunekit report, made ${escapeHtml(new Date(now).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"))} from ${trials.length} trials</p></header>
<nav>${nav.join("\n")}</nav>
${settings(source, study)}
${best(source, limit)}
<h2>Plots</h2>
${charts.map(({ kind, chart }, i) => `<section id="plot-${kind}">${figure(i, chart)}</section>`).join("\n")}
${skipped.length === 0 ? "" : `<section id="skipped"><h2>Plots not shown</h2><ul class="skipped">
${skipped.map((s) => `<li><b>${s.kind}</b>: ${escapeHtml(s.reason)}</li>`).join("\n")}
</ul></section>`}`
  return {
    html: page({ title: `${study.name}: tunekit report`, body, charts: charts.map((c) => c.chart), style: STYLE }),
    plots: charts.map((c) => c.kind),
    skipped
  }
}

/** What `write` wrote. */
export interface Written {
  readonly path: string
  readonly bytes: number
  readonly trials: number
  readonly plots: ReadonlyArray<Kind.Name>
  readonly skipped: ReadonlyArray<{ readonly kind: Kind.Name; readonly reason: string }>
}

/** What `write` can fail with. */
export type WriteError = UnsupportedFormat | WriteFailed | StorageError | StudyNotFound

/**
 * Reads a study from the storage and writes its report to an .html file: what
 * `tunekit report STUDY --out report.html` does.
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { Report } from "@tunekit/plots"
 * const program = Report.write("digits-mlp", "report.html")
 * Effect.runPromise(Effect.scoped(Effect.provide(program, Storage.layerSqlite("tunekit.db", { readonly: true }))))
 */
export const write = (
  study: string,
  file: string,
  options: Options = {}
): Effect.Effect<Written, WriteError, Storage.Storage> =>
  Effect.gen(function*() {
    if (!/\.html?$/i.test(file)) return yield* new UnsupportedFormat({ path: file, supported: [".html"] })
    const storage = yield* Storage.Storage
    const info = yield* storage.getStudy(study)
    const trials = yield* storage.getTrials(info.id)
    const report = make(info, trials, options)
    const bytes = yield* writeFile(file, report.html)
    return { path: file, bytes, trials: trials.length, plots: report.plots, skipped: report.skipped }
  })
