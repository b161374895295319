// `tunekit plot KIND STUDY --out FILE` and `tunekit report STUDY --out FILE`: @tunekit/plots'
// File.plot and Report.write, whose typed errors (an unknown plot, one that does not apply, an
// extension it cannot write, no rsvg-convert for PNG) reach the terminal as one line each.
import { Args, CommandDescriptor as Descriptor, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { Options as Check, type Storage } from "@tunekit/core"
import { File, Kind, Report } from "@tunekit/plots"
import * as Main from "../Main.js"

/** Comma-separated items, each non-empty and checked by `item`. */
const commaList = <A>(what: string, item: (s: string) => A | undefined, rule?: (xs: ReadonlyArray<A>) => boolean) =>
  Schema.transform(
    Schema.String.pipe(Schema.filter((s) => {
      const xs = s.split(",").map((p) => item(p.trim()))
      return xs.every((x) => x !== undefined) && (rule === undefined || rule(xs as Array<A>))
    })).annotations(Check.expecting(what)),
    Schema.Array(Schema.Any as Schema.Schema<A>),
    { strict: true, decode: (s) => s.split(",").map((p) => item(p.trim())!), encode: (xs) => xs.join(",") }
  )

const Params = commaList("comma-separated parameter names", (s) => (s === "" ? undefined : s))
const Rungs = commaList(
  "increasing positive numbers, comma-separated (1,3,9)",
  (s) => (s !== "" && Number.isFinite(Number(s)) && Number(s) > 0 ? Number(s) : undefined),
  (xs) => xs.every((x, i) => i === 0 || x > xs[i - 1])
)

const method = Main.option("method", Check.literals("fanova", "ped-anova"), {
  description: "how importance is measured: fanova (default) or ped-anova",
  placeholder: "fanova|ped-anova"
}).pipe(Options.optional)
const rungs = Main.option("rungs", Rungs, {
  description: "the rungs plot on these rung resources, one bracket (default: the rungs and brackets the study's ASHA, successive halving or Hyperband scheduler recorded)",
  placeholder: "R1,R2,..."
}).pipe(Options.optional)
const study = Main.argument("STUDY", Check.NonEmptyString, "the study's name (as `tunekit studies` lists it)")

/** `tunekit plot KIND STUDY`. */
export const plotCommand = Descriptor.make(
  "plot",
  Options.all({
    storage: Main.storageOption,
    out: Main.option("out", Main.FilePath, { description: "the file, .svg, .png or .html (default KIND.svg)", placeholder: "FILE" }).pipe(Options.optional),
    params: Main.option("params", Params, {
      description: "the parameters of importance, parallel-coordinates, contour, slice and rank (default: every parameter)",
      placeholder: "a,b,..."
    }).pipe(Options.optional),
    // A plain text option: @effect/cli repeats only those (a decoded one is not "single").
    compare: Options.text("compare").pipe(
      Options.withDescription("another study to overlay on history or edf (repeat it for more)"),
      Options.withPseudoName("STUDY"),
      Options.repeated
    ),
    method,
    rungs
  }),
  Args.all([Main.argument("KIND", Check.NonEmptyString, `the plot: ${Kind.names.join(", ")}`), study])
).pipe(Descriptor.withDescription("Write one plot of a study to an SVG, PNG or self-contained HTML file."))

/** `tunekit report STUDY`. */
export const reportCommand = Descriptor.make(
  "report",
  Options.all({
    storage: Main.storageOption,
    out: Main.option("out", Main.FilePath, { description: "the .html file (default report.html)", placeholder: "FILE" }).pipe(Options.withDefault("report.html")),
    method,
    rungs
  }),
  study
).pipe(Descriptor.withDescription("Write a study's report: one HTML file that works offline, with its settings, best trials and every plot that applies."))

const size = (bytes: number) => (bytes < 1e3 ? `${bytes} B` : bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`)

/** A parsed `plot` command line. */
export type PlotParsed = typeof plotCommand extends Descriptor.Command<infer A> ? A : never
/** A parsed `report` command line. */
export type ReportParsed = typeof reportCommand extends Descriptor.Command<infer A> ? A : never

/** What `plot` and `report` can fail with. */
export type PlotCliError = File.PlotError

/** Runs `plot`: writes the file, and says what it wrote. */
export const plot = ({ options: o, args: [kind, name] }: PlotParsed): Effect.Effect<string, PlotCliError, Storage.Storage> =>
  Effect.map(
    File.plot(kind, name, Option.getOrElse(o.out, () => `${kind}.svg`), {
      compare: o.compare,
      ...Option.match(o.params, { onNone: () => ({}), onSome: (params) => ({ params }) }),
      ...Option.match(o.method, { onNone: () => ({}), onSome: (method) => ({ method }) }),
      ...Option.match(o.rungs, { onNone: () => ({}), onSome: (rungs) => ({ rungs }) })
    }),
    (w) => {
      const [first, ...others] = w.studies
      const of = `"${first.name}" (${first.trials} trials)${others.map((s) => ` and "${s.name}" (${s.trials})`).join("")}`
      return `wrote ${w.kind} of ${of} to ${w.path} (${size(w.bytes)})`
    }
  )

/** Runs `report`: writes the file, and says what it shows and what it leaves out. */
export const report = ({ options: o, args: name }: ReportParsed): Effect.Effect<string, Report.WriteError, Storage.Storage> =>
  Effect.map(
    Report.write(name, o.out, {
      ...Option.match(o.method, { onNone: () => ({}), onSome: (method) => ({ method }) }),
      ...Option.match(o.rungs, { onNone: () => ({}), onSome: (rungs) => ({ rungs }) })
    }),
    (w) =>
      [
        `wrote the report of "${name}" (${w.trials} trials) to ${w.path} (${size(w.bytes)})`,
        `  plots: ${w.plots.join(", ") || "none"}`,
        ...w.skipped.map((s) => `  not shown: ${s.kind}: ${s.reason}`)
      ].join("\n")
  )
