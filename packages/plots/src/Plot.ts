/**
 * Rendering: any plot's data to an Apache ECharts option, to SVG (server-side, no DOM, no
 * browser), or to a self-contained HTML page where the same option is drawn interactively by
 * ECharts inlined in the page (zoom, tooltips, legend toggles, brushing parallel axes), with
 * nothing fetched, so the file works offline.
 *
 * PNG: there is no pure-JavaScript path without native binaries (ECharts' canvas renderer needs
 * node-canvas; resvg-js ships prebuilt binaries). `File.write("plot.png", data)` converts the SVG
 * with `rsvg-convert` from Debian's librsvg2-bin.
 *
 * Why ECharts, and what it costs, is in docs/architecture.md.
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import type * as Contour from "./Contour.js"
import type * as Edf from "./Edf.js"
import type * as Folds from "./Folds.js"
import type * as History from "./History.js"
import type * as Importance from "./Importance.js"
import type * as Intermediate from "./Intermediate.js"
import type * as Lineage from "./Lineage.js"
import type * as ParallelCoordinates from "./ParallelCoordinates.js"
import type * as ParetoFront from "./ParetoFront.js"
import type * as Rank from "./Rank.js"
import type * as Rungs from "./Rungs.js"
import type * as Slice from "./Slice.js"
import type * as Timeline from "./Timeline.js"
import { type Frame, type Option, rowsOf } from "./internal/render/common.js"
import { edf, history } from "./internal/render/history.js"
import { escapeHtml, figure, page } from "./internal/render/page.js"
import { contour, importance, parallelCoordinates, rank, slice } from "./internal/render/params.js"
import { lineage, paretoFront, rungs } from "./internal/render/schedulers.js"
import { folds, intermediate, timeline } from "./internal/render/trials.js"

/** The data of any plot. */
export type Data =
  | History.Data
  | Importance.Data
  | ParallelCoordinates.Data
  | Contour.Data
  | Slice.Data
  | Rank.Data
  | Edf.Data
  | Intermediate.Data
  | Rungs.Data
  | Lineage.Data
  | Folds.Data
  | ParetoFront.Data
  | Timeline.Data

/** The kinds of plots, by the tag of their data. */
export type Kind = Data["_tag"]

/** An ECharts option: plain JSON, no functions. */
export type EChartsOption = Option

/** Options of rendering. */
export interface Options {
  /** Pixels (default 900). */
  readonly width?: number
  /** Pixels (default: by kind, grown with the number of panels, parameters or lanes). */
  readonly height?: number
  /** The chart's title (default: by kind). */
  readonly title?: string
}

const columnsOf = (n: number) => (n <= 1 ? 1 : Math.min(3, Math.ceil(Math.sqrt(n))))

const panelsOf = (data: Data): number => {
  switch (data._tag) {
    case "Contour":
      return data.panels.length
    case "Slice":
      return data.panels.length
    case "Rank":
      return data.axes.length <= 1 ? 1 : (data.axes.length * (data.axes.length - 1)) / 2
    default:
      return 1
  }
}

const titleOf = (data: Data): string => {
  switch (data._tag) {
    case "History":
      return data.studies.length === 1 ? `Optimization history: ${data.studies[0].study}` : "Optimization history"
    case "Importance":
      return `Parameter importance (${data.method === "fanova" ? "fANOVA" : "PED-ANOVA"})`
    case "ParallelCoordinates":
      return "Parallel coordinates"
    case "Contour":
      return "Contour"
    case "Slice":
      return "Slice"
    case "Rank":
      return "Rank"
    case "Edf":
      return `Empirical distribution of ${data.objective}`
    case "Intermediate":
      return `Intermediate values: ${data.metric}`
    case "Rungs":
      return "Rungs: occupancy and promotions"
    case "Lineage":
      return "Population-based training: lineage"
    case "Folds":
      return `Cross-validation folds: ${data.metric}`
    case "ParetoFront":
      return "Pareto front and hypervolume"
    case "Timeline":
      return "Timeline"
  }
}

const heightOf = (data: Data): number => {
  switch (data._tag) {
    case "Importance":
      return Math.max(300, 120 + data.params.length * 26 * Math.max(1, data.objectives.length * 0.6))
    case "Timeline":
      return Math.max(300, 150 + data.workers.length * 36)
    case "History":
      return data.panels.length <= 1 ? 500 : 120 + data.panels.length * 280
    case "Lineage":
      return Math.max(300, 150 + data.members.length * 44)
    case "Rungs":
      return 620
    case "ParetoFront":
      return data.objectives.length === 2 ? 460 : 760
    default: {
      const n = panelsOf(data)
      return n <= 1 ? 500 : 80 + rowsOf(n, columnsOf(n)) * 300
    }
  }
}

const frameOf = (data: Data, options: Options): Frame => {
  const width = options.width ?? 900
  const height = options.height ?? heightOf(data)
  if (!(Number.isFinite(width) && width > 0 && Number.isFinite(height) && height > 0)) {
    throw new RangeError(`a plot's width and height must be positive numbers, got ${width} x ${height}`)
  }
  return { width, height, title: options.title ?? titleOf(data) }
}

const optionFor = (data: Data, frame: Frame): Option => {
  const columns = columnsOf(panelsOf(data))
  switch (data._tag) {
    case "History":
      return history(data, frame)
    case "Importance":
      return importance(data, frame)
    case "ParallelCoordinates":
      return parallelCoordinates(data, frame)
    case "Contour":
      return contour(data, frame, columns)
    case "Slice":
      return slice(data, frame, columns)
    case "Rank":
      return rank(data, frame, columns)
    case "Edf":
      return edf(data, frame)
    case "Intermediate":
      return intermediate(data, frame)
    case "Rungs":
      return rungs(data, frame)
    case "Lineage":
      return lineage(data, frame)
    case "Folds":
      return folds(data, frame)
    case "ParetoFront":
      return paretoFront(data, frame)
    case "Timeline":
      return timeline(data, frame)
  }
}

/**
 * The ECharts option of a plot, with its size: plain JSON, for a page that runs ECharts itself
 * (the dashboard).
 *
 * @example
 * import { History, Plot, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const { option, width, height } = Plot.option(History.make(study))
 * JSON.stringify(option) // send it to a browser: echarts.init(el).setOption(option)
 */
export const option = (data: Data, options: Options = {}): { readonly option: EChartsOption; readonly width: number; readonly height: number } => {
  const frame = frameOf(data, options)
  return { option: optionFor(data, frame), width: frame.width, height: frame.height }
}

/**
 * A plot as an SVG document, rendered on the server by ECharts (no DOM, no browser).
 *
 * @example
 * import * as fs from "node:fs"
 * import { Importance, Plot, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * fs.writeFileSync("importance.svg", Plot.toSvg(Importance.fanova(study)))
 */
export const toSvg = (data: Data, options: Options = {}): string => {
  const { option: o, width, height } = option(data, options)
  const chart = echarts().init(null, null, { renderer: "svg", ssr: true, width, height })
  try {
    chart.setOption(o)
    return chart.renderToSVGString()
  } finally {
    // A chart left undisposed keeps a timer that holds the process open.
    chart.dispose()
  }
}

const require = createRequire(import.meta.url)

let lib: typeof import("echarts") | undefined

/**
 * ECharts, loaded on the first render: the data of plots does not pay for it, and its one-file
 * CommonJS build (dist/echarts.js) loads about 3 times faster than its ES modules.
 */
const echarts = (): typeof import("echarts") => (lib ??= require("echarts") as typeof import("echarts"))

/** A plot for `toHtml`, with its own options. */
export interface Entry {
  readonly data: Data
  readonly options?: Options
}

/**
 * One self-contained HTML page with interactive charts: ECharts (about 1.1 MB) is inlined once,
 * each plot's option is embedded as JSON, and nothing is fetched, so the page works offline.
 * Every string of the study (names, parameters, choices) reaches the page as JSON data or
 * escaped text, never as markup.
 *
 * @example
 * import * as fs from "node:fs"
 * import { History, Importance, Plot, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * fs.writeFileSync("study.html", Plot.toHtml([History.make(study), Importance.pedAnova(study)], { title: study.name }))
 */
export const toHtml = (plots: Data | ReadonlyArray<Data | Entry>, options: { readonly title?: string } = {}): string => {
  const list = (Array.isArray(plots) ? plots : [plots]) as ReadonlyArray<Data | Entry>
  const entries = list.map((p) => ("data" in p && !("_tag" in p) ? p : { data: p as Data, options: {} }))
  const charts = entries.map((e) => option(e.data, e.options ?? {}))
  const title = options.title ?? (charts.length === 1 ? String((charts[0].option.title as { text?: string })?.text ?? "tunekit") : "tunekit")
  const body = `<h1>${escapeHtml(title)}</h1>\n${charts.map((c, i) => figure(i, c)).join("\n")}`
  return page({ title, body, charts })
}
