/**
 * Plots as files, the format read from the file's extension: `.svg` (rendered on the server),
 * `.html` (one self-contained interactive page, ECharts inlined, nothing fetched) or `.png`
 * (the SVG converted by `rsvg-convert`, from Debian's librsvg2-bin: no npm package rasterizes SVG
 * without a native binary fetched at install time). `tunekit plot` is `File.plot`.
 *
 * @since 0.1.0
 */
import type { Storage, StorageError, StudyNotFound } from "@tunekit/core"
import { Effect, Either } from "effect"
import * as path from "node:path"
import type { ConvertFailed, InvalidPlot, MissingConverter, NotApplicable, UnknownPlot, WriteFailed } from "./Errors.js"
import { UnsupportedFormat } from "./Errors.js"
import * as Kind from "./Kind.js"
import * as Plot from "./Plot.js"
import * as Source from "./Source.js"
import { toPng } from "./internal/rsvg.js"
import { writeFile } from "./internal/write.js"

/** A format a plot is written in. */
export type Format = "svg" | "png" | "html"

/**
 * The extensions of the formats.
 *
 * @example
 * import { File } from "@tunekit/plots"
 * File.extensions // [".svg", ".png", ".html"]
 */
export const extensions: ReadonlyArray<string> = [".svg", ".png", ".html"]

/**
 * The format of a file name, from its extension (case-insensitive; `.htm` is HTML too).
 *
 * @example
 * import { File } from "@tunekit/plots"
 * File.formatOf("plots/loss.PNG") // "png"
 * File.formatOf("loss.jpg")       // undefined
 */
export const formatOf = (file: string): Format | undefined => {
  const ext = path.extname(file).toLowerCase()
  return ext === ".svg" ? "svg" : ext === ".png" ? "png" : ext === ".html" || ext === ".htm" ? "html" : undefined
}

/** Options of rendering to a file. */
export interface Options extends Plot.Options {
  /** PNG: pixels per pixel of the SVG (default 1; 2 gives a sharp image on a high-density screen). */
  readonly scale?: number
}

/**
 * A plot in a format: the SVG or HTML text, or the PNG's bytes.
 *
 * @example
 * import { Effect } from "effect"
 * import { File, History, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const png = File.render(History.make(study), "png", { scale: 2 }) // Effect<Uint8Array | string, ...>
 */
export const render = (data: Plot.Data, format: Format, options: Options = {}): Effect.Effect<string | Uint8Array, MissingConverter | ConvertFailed> => {
  const scale = options.scale ?? 1
  if (!(Number.isFinite(scale) && scale > 0 && scale <= 10)) return Effect.die(new RangeError(`a PNG's scale must be in (0, 10], got ${scale}`))
  switch (format) {
    case "svg":
      return Effect.sync(() => Plot.toSvg(data, options))
    case "html":
      return Effect.sync(() => Plot.toHtml([{ data, options }], options.title === undefined ? {} : { title: options.title }))
    case "png":
      return Effect.flatMap(Effect.sync(() => Plot.toSvg(data, options)), (svg) => toPng(svg, scale))
  }
}

/**
 * Writes a plot to a file in the format its extension names; gives the bytes written.
 *
 * @example
 * import { Effect } from "effect"
 * import { File, Importance, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * Effect.runPromise(File.write("importance.png", Importance.fanova(study)))
 */
export const write = (file: string, data: Plot.Data, options: Options = {}): Effect.Effect<number, UnsupportedFormat | MissingConverter | ConvertFailed | WriteFailed> => {
  const format = formatOf(file)
  if (format === undefined) return Effect.fail(new UnsupportedFormat({ path: file, supported: extensions }))
  return Effect.flatMap(render(data, format, options), (content) => writeFile(file, content))
}

/** Options of `plot`. */
export interface PlotOptions extends Kind.Options, Options {
  /** Studies to overlay on the first (history and edf). */
  readonly compare?: ReadonlyArray<string>
}

/** What `plot` wrote. */
export interface Written {
  readonly path: string
  readonly format: Format
  readonly kind: Kind.Name
  readonly bytes: number
  /** The studies plotted, with their trial counts. */
  readonly studies: ReadonlyArray<{ readonly name: string; readonly trials: number }>
}

/** What `plot` can fail with. */
export type PlotError = UnknownPlot | UnsupportedFormat | NotApplicable | InvalidPlot | MissingConverter | ConvertFailed | WriteFailed | StorageError | StudyNotFound

/**
 * Reads a study from the storage and writes one of its plots, by name (`Kind.names`), to a file
 * in the format its extension names: what `tunekit plot KIND STUDY --out FILE` does.
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { File } from "@tunekit/plots"
 * const program = File.plot("history", "tpe", "history.svg", { compare: ["random"] })
 * Effect.runPromise(Effect.scoped(Effect.provide(program, Storage.layerSqlite("tunekit.db", { readonly: true }))))
 */
export const plot = (kind: string, study: string, file: string, options: PlotOptions = {}): Effect.Effect<Written, PlotError, Storage.Storage> =>
  Effect.gen(function*() {
    // What the command line says is checked before the study is read.
    const name = yield* Either.match(Kind.decode(kind), { onLeft: Effect.fail, onRight: Effect.succeed })
    const format = formatOf(file)
    if (format === undefined) return yield* new UnsupportedFormat({ path: file, supported: extensions })
    const sources = yield* Effect.forEach([study, ...(options.compare ?? [])], Source.load)
    const data = yield* Kind.make(name, sources, options)
    const bytes = yield* write(file, data, options)
    return { path: file, format, kind: name, bytes, studies: sources.map((s) => ({ name: s.name, trials: s.trials.length })) }
  })
