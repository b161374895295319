/**
 * The `tunekit` command: look at studies stored in SQLite from a terminal. Its arguments are
 * parsed by @effect/cli (`tunekit --help`, `tunekit trials --help`); an unknown flag is an error
 * that lists the known ones. Every command but `sweep` only reads: the storage is opened
 * read-only, so they work on a file (and in a folder) that cannot be written. `sweep` runs sweeps
 * from YAML files (see Sweep.ts).
 *
 * ```
 * tunekit studies                      [--storage FILE] [--json]
 * tunekit trials STUDY                 [--storage FILE] [--json]
 * tunekit trial STUDY NUMBER           [--storage FILE] [--json]
 * tunekit best STUDY                   [--storage FILE] [--json]
 * tunekit export STUDY --format csv|json|cv [--storage FILE] [--output FILE]
 * tunekit runs STUDY                  [--storage FILE] [--json]
 * tunekit checkpoints STUDY           [--storage FILE|URL] [--checkpoints DIR|URL] [--keep-last N] [--keep-best K] [--prune] [--json]
 * tunekit plot KIND STUDY             [--storage FILE] [--out FILE.svg|png|html] [--params a,b] [--compare STUDY]...
 * tunekit report STUDY                [--storage FILE] [--out report.html]
 * tunekit dashboard                  [--storage FILE] [--port N] [--host ADDRESS] [--allow-write] [--token TOKEN]
 * tunekit tasks                       [--storage FILE]
 * tunekit tasks similar NAME          [--k N]
 * tunekit tasks record STUDY --task NAME
 * tunekit sweep run FILE                [--storage FILE] [--count N]
 * tunekit sweep agent NAME              [--storage FILE] [--count N]
 * tunekit worker --study NAME          [--storage FILE|URL] [--slots N] [--count N] [--module FILE]
 * tunekit sweep init [FILE]             [--force]
 * tunekit sweep schema
 * ```
 *
 * @since 0.1.0
 */
import { Args, CommandDescriptor as Descriptor, Options } from "@effect/cli"
import { Data, Effect, Option } from "effect"
import * as fs from "node:fs"
import * as StorageName from "./internal/storageName.js"
import * as path from "node:path"
// (Checkpoint: named by the declaration of `run`, whose errors include the worker's checkpoint store.)
import { type Checkpoint, Export, Options as Check, Storage, Study, Trial } from "@tunekit/core"
import { Runs } from "@tunekit/tracking"
import * as CheckpointsCli from "./internal/checkpointsCli.js"
import * as DashboardCli from "./internal/dashboardCli.js"
import * as SweepCli from "./internal/sweepCli.js"
import * as PlotCli from "./internal/plotCli.js"
import * as TasksCli from "./internal/tasksCli.js"
import * as WorkerCli from "./internal/workerCli.js"
import * as Main from "./Main.js"
import { UsageError } from "./Main.js"

export { UsageError }

/** The storage file the examples write, used when `--storage` is not given. */
export const DEFAULT_STORAGE = Main.DEFAULT_STORAGE

/** The storage file does not exist. */
export class MissingStorage extends Data.TaggedError("MissingStorage")<{ readonly path: string }> {
  override get message() {
    return `no tunekit storage at ${this.path} (run a study first, or pass --storage FILE)`
  }
}

/** The study has no trial with that number. */
export class NoSuchTrial extends Data.TaggedError("NoSuchTrial")<{
  readonly study: string
  readonly number: number
  readonly trials: number
}> {
  override get message() {
    const have = this.trials === 0 ? "it has no trials yet" : `its trials are numbered 0 to ${this.trials - 1}`
    return `study "${this.study}" has no trial ${this.number} (${have})`
  }
}

/** `export --format cv` on a study whose steps are not cross-validation folds. */
export class NotCrossValidated extends Data.TaggedError("NotCrossValidated")<{
  readonly study: string
  readonly metric: string
}> {
  override get message() {
    return `study "${this.study}" has no cross-validation folds: its complete trials do not report "${this.metric}" at steps 0, 1, ... with their mean as value (steps that are epochs are not folds); export it with --format csv or json`
  }
}

/** The export could not be written. */
export class WriteError extends Data.TaggedError("WriteError")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `cannot write ${this.path}: ${this.reason}`
  }
}

const { FilePath, storageOption } = Main
const jsonOption = Options.boolean("json").pipe(Options.withDescription("machine-readable output (JSON)"))
const reading = Options.all({ storage: storageOption, json: jsonOption })
const studyArg = Main.argument("STUDY", Check.NonEmptyString, "the study's name (as `tunekit studies` lists it)")

/**
 * The command line `tunekit` takes, as an @effect/cli descriptor: its subcommands, options
 * (checked by effect/Schema) and help.
 *
 * @example
 * import { Effect } from "effect"
 * import { Cli, Main } from "@tunekit/cli"
 * const parsed = Effect.runPromise(Main.parse(Cli.command, ["trials", "demo", "--json"]))
 */
export const command = Descriptor.make("tunekit").pipe(
  Descriptor.withDescription("Look at the studies stored in a tunekit SQLite file, and run sweeps from YAML files."),
  Descriptor.withSubcommands([
    ["studies", Descriptor.make("studies", reading).pipe(Descriptor.withDescription("List the studies."))],
    ["trials", Descriptor.make("trials", reading, studyArg).pipe(Descriptor.withDescription("List a study's trials."))],
    [
      "trial",
      Descriptor.make("trial", reading, Args.all([studyArg, Main.numberArgument("NUMBER", Check.NonNegativeInt, "the trial's number")])).pipe(
        Descriptor.withDescription("Show one trial in full: params, values, intermediate values, attributes, timing, and why it failed.")
      )
    ],
    ["best", Descriptor.make("best", reading, studyArg).pipe(Descriptor.withDescription("Show the best trial (or the Pareto front)."))],
    [
      "export",
      Descriptor.make(
        "export",
        Options.all({
          storage: storageOption,
          json: Options.boolean("json").pipe(Options.withDescription("the same as --format json")),
          format: Main.option("format", Check.literals("csv", "json", "cv"), {
            description: "csv or json: every trial, one row each; cv: the cross-validation table (cv_results_) as CSV",
            placeholder: "csv|json|cv"
          }).pipe(Options.optional),
          output: Main.option("output", FilePath, { description: "write to this file instead of stdout", placeholder: "FILE" }).pipe(Options.optional)
        }),
        studyArg
      ).pipe(Descriptor.withDescription("Export a study's trials."))
    ],
    ["runs", Descriptor.make("runs", reading, studyArg).pipe(Descriptor.withDescription("List a study's runs: the study's parent run and a nested run per trial, with tags, notes and artifacts."))],
    ["checkpoints", CheckpointsCli.command],
    ["plot", PlotCli.plotCommand],
    ["report", PlotCli.reportCommand],
    ["dashboard", DashboardCli.command],
    ["tasks", TasksCli.command],
    ["sweep", SweepCli.command],
    ["worker", WorkerCli.command]
  ])
)

/** Pads cells into aligned columns. */
export const formatTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (r: ReadonlyArray<string>) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

const num = (v: number | undefined | null) => (v === undefined || v === null ? "-" : String(Number(v.toPrecision(6))))
// A sweep's trial keeps the values its program received (user attribute `config`, nested as in
// the file) beside the Space's internal params: those are what it ran with.
const flat = (o: Readonly<Record<string, unknown>>, prefix = ""): Array<[string, unknown]> =>
  Object.entries(o).flatMap(([k, v]): Array<[string, unknown]> =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? flat(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v]]
  )
const paramsText = (t: Trial.FrozenTrial) => {
  const config = t.userAttrs.config
  const entries = config !== null && typeof config === "object" && !Array.isArray(config) ? flat(config as Record<string, unknown>) : Object.entries(Trial.paramValues(t))
  return entries.map(([k, v]) => `${k}=${typeof v === "number" ? num(v) : typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")
}

/** The system attribute where a failed trial keeps what went wrong (message, tag, fields, stack). */
export const FAILURE_ATTR = "failure"

const time = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())
const durationS = (t: Trial.FrozenTrial) => {
  const d = Trial.duration(t)
  return d === undefined ? null : d / 1000
}

const trialJson = (info: Storage.StudyInfo, t: Trial.FrozenTrial) => ({
  study: info.name,
  number: t.number,
  state: t.state,
  params: Trial.paramValues(t),
  values: t.values ?? null,
  directions: info.directions,
  intermediate: t.intermediate,
  user_attrs: t.userAttrs,
  system_attrs: t.systemAttrs,
  started_at: time(t.startedAt),
  finished_at: time(t.finishedAt),
  duration_s: durationS(t),
  worker: t.worker ?? null,
  reason: t.reason ?? null,
  failure: t.systemAttrs[FAILURE_ATTR] ?? null
})

const jsonText = (v: Trial.Json): string => (typeof v === "string" ? v : JSON.stringify(v))

/** `key  value` lines, aligned; a value over several lines (a stack) continues indented. */
const fields = (entries: ReadonlyArray<readonly [string, string]>, indent = "  "): Array<string> => {
  const width = Math.max(0, ...entries.map(([k]) => k.length))
  return entries.flatMap(([k, v]) => {
    const [first, ...rest] = v.split("\n")
    return [`${indent}${k.padEnd(width)}  ${first}`.trimEnd(), ...rest.map((l) => `${indent}${" ".repeat(width)}  ${l.trim()}`)]
  })
}

const attrLines = (title: string, attrs: Readonly<Record<string, Trial.Json>>): Array<string> => {
  const entries = Object.entries(attrs)
  return entries.length === 0 ? [`${title}: none`] : [`${title}:`, ...fields(entries.map(([k, v]) => [k, jsonText(v)] as const))]
}

/** The failure details, whatever their shape: an object's fields one a line, or the value. */
const failureLines = (failure: Trial.Json | undefined): Array<string> => {
  if (failure === undefined || failure === null) return []
  if (typeof failure !== "object" || Array.isArray(failure)) return ["failure:", ...fields([["details", jsonText(failure)]])]
  return ["failure:", ...fields(Object.entries(failure).map(([k, v]) => [k, jsonText(v)] as const))]
}

const trialText = (info: Storage.StudyInfo, t: Trial.FrozenTrial): string => {
  const objectives = info.directions.map((d, i) => `${info.metrics[i] ?? "value"} (${d})`).join(", ")
  const metrics = [...new Set(t.intermediate.flatMap((m) => Object.keys(m.values)))]
  const { [FAILURE_ATTR]: failure, ...system } = t.systemAttrs
  return [
    `trial ${t.number} of "${info.name}"`,
    ...fields([
      ["state", t.state],
      ...(t.reason === undefined ? [] : [["reason", t.reason] as const]),
      ["values", t.values === undefined ? "-" : `${t.values.map((v) => num(v)).join(", ")}  ${objectives}`],
      ["params", paramsText(t) || "-"],
      ["started", time(t.startedAt) ?? "-"],
      ["finished", time(t.finishedAt) ?? "-"],
      ["duration_s", num(durationS(t))],
      ["worker", t.worker ?? "-"]
    ]),
    ...failureLines(failure),
    t.intermediate.length === 0 ? "intermediate values: none" : `intermediate values (${t.intermediate.length} steps):`,
    ...(t.intermediate.length === 0 ? [] : formatTable(["step", ...metrics], t.intermediate.map((m) => [num(m.step), ...metrics.map((k) => num(m.values[k]))]))
      .split("\n").map((l) => `  ${l}`)),
    ...attrLines("user attributes", t.userAttrs),
    ...attrLines("system attributes", system)
  ].join("\n")
}

const load = (name: string) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const info = yield* storage.getStudy(name)
    const trials = yield* storage.getTrials(info.id)
    return { info, trials }
  })

interface Reading {
  readonly storage: string
  readonly json: boolean
}

/** The trial attribute where Auto records what proposed a trial. */
const AUTO = "auto.sampler"

const commands = {
  studies: (p: Reading) =>
    Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const studies = yield* storage.listStudies()
      const rows = yield* Effect.forEach(studies, (s) =>
        Effect.map(storage.getTrials(s.id), (trials) => {
          const best = s.directions.length === 1 ? Option.getOrUndefined(Study.bestOf(trials, s.directions[0])) : undefined
          return { name: s.name, directions: s.directions, trials: trials.length, complete: trials.filter((t) => t.state === "Complete").length, best: best?.values?.[0] ?? null, created: new Date(s.createdAt).toISOString() }
        }))
      if (p.json) return JSON.stringify(rows, null, 2)
      if (rows.length === 0) return "no studies yet"
      return formatTable(
        ["study", "directions", "trials", "complete", "best", "created"],
        rows.map((r) => [r.name, r.directions.join(","), String(r.trials), String(r.complete), num(r.best), r.created])
      )
    }),
  trials: (p: Reading, study: string) =>
    Effect.gen(function*() {
      const { info, trials } = yield* load(study)
      const rows = Export.rows(trials, info.directions)
      if (p.json) return Export.toJson(rows)
      // What proposed each trial, when the sampler recorded it (Auto: its design, GP or TPE).
      const proposer = (t: Trial.FrozenTrial) => t.systemAttrs[AUTO]
      const byAuto = trials.some((t) => typeof proposer(t) === "string")
      return formatTable(
        ["#", "state", "values", "rank", "duration_s", ...(byAuto ? ["sampler"] : []), "params", "reason"],
        trials.map((t, i) => [
          String(t.number),
          t.state,
          t.values?.map((v) => num(v)).join(",") ?? "-",
          rows[i].rank === null ? "-" : String(rows[i].rank),
          num(rows[i].duration_s),
          ...(byAuto ? [String(proposer(t) ?? "-")] : []),
          paramsText(t),
          t.reason ?? ""
        ])
      )
    }),
  trial: (p: Reading, study: string, number: number) =>
    Effect.gen(function*() {
      const { info, trials } = yield* load(study)
      const trial = trials.find((t) => t.number === number)
      if (trial === undefined) return yield* new NoSuchTrial({ study: info.name, number, trials: trials.length })
      return p.json ? JSON.stringify(trialJson(info, trial), null, 2) : trialText(info, trial)
    }),
  best: (p: Reading, study: string) =>
    Effect.gen(function*() {
      const { info, trials } = yield* load(study)
      const front = info.directions.length === 1
        ? Option.toArray(Study.bestOf(trials, info.directions[0]))
        : Study.paretoFrontOf(trials, info.directions)
      const rows = Export.rows(front, info.directions)
      if (p.json) return Export.toJson(info.directions.length === 1 ? rows.slice(0, 1) : rows)
      if (front.length === 0) return `study "${info.name}" has no complete trial yet`
      const title = info.directions.length === 1 ? `best trial of "${info.name}" (${info.directions[0]})` : `Pareto front of "${info.name}" (${info.directions.join(", ")})`
      return `${title}\n${formatTable(["#", "values", "params"], front.map((t) => [String(t.number), t.values!.map((v) => num(v)).join(","), paramsText(t)]))}`
    }),
  export: (p: Export_, study: string) =>
    Effect.gen(function*() {
      const format = Option.getOrUndefined(p.format) ?? (p.json ? "json" : undefined)
      if (format === undefined) return yield* new UsageError({ reason: "export needs --format csv, json or cv", command: "tunekit export" })
      const { info, trials } = yield* load(study)
      const text = format === "cv"
        ? yield* cvTable(info, trials)
        : format === "csv"
        ? Export.toCsv(Export.rows(trials, info.directions), info.directions.length)
        : Export.toJson(Export.rows(trials, info.directions)) + "\n"
      if (Option.isNone(p.output)) return text.trimEnd()
      yield* write(p.output.value, text)
      return `wrote ${trials.length} trials to ${p.output.value}`
    })
}

type CommandError = Effect.Effect.Error<ReturnType<(typeof commands)[keyof typeof commands]>> | PlotCli.PlotCliError

interface Export_ extends Reading {
  readonly format: Option.Option<"csv" | "json" | "cv">
  readonly output: Option.Option<string>
}

// A study that names no metric reports its folds as "score", as Export.cvRowsOf reads them.
const cvTable = (info: Storage.StudyInfo, trials: ReadonlyArray<Trial.FrozenTrial>) => {
  const named = info.metrics[0] === undefined || info.metrics[0] === "value" ? "score" : info.metrics[0]
  const metric = Export.foldMetric(trials, named)
  return metric === undefined
    ? Effect.fail(new NotCrossValidated({ study: info.name, metric: named }))
    : Effect.succeed(Export.cvToCsv(Export.cvRows(trials, { direction: info.directions[0], metric })))
}

const write = (file: string, text: string) =>
  Effect.suspend(() => {
    const dir = path.dirname(path.resolve(file))
    if (!fs.existsSync(dir)) return Effect.fail(new WriteError({ path: file, reason: `the folder ${dir} does not exist` }))
    return Effect.try({
      try: () => fs.writeFileSync(file, text),
      catch: (e) => new WriteError({ path: file, reason: (e as NodeJS.ErrnoException).code === "EISDIR" ? "it is a folder" : (e as Error).message })
    })
  })

/**
 * Runs the CLI on arguments (without the program's name) and gives the text to print, or fails
 * with a typed error whose message is one line. `--help` (or no arguments) gives the help.
 *
 * @example
 * import { Cli } from "@tunekit/cli"
 * import { Effect } from "effect"
 * const text = await Effect.runPromise(Cli.run(["studies", "--storage", "tunekit.db"]))
 */
export const run = (argv: ReadonlyArray<string>) =>
  Main.dispatch(command, argv.length === 0 || (argv.length === 1 && argv[0] === "help") ? ["--help"] : argv, (parsed) =>
    Effect.gen(function*() {
      if (Option.isNone(parsed.subcommand)) {
        return yield* new UsageError({ reason: "tunekit needs a command; see tunekit --help", command: "tunekit" })
      }
      const sub = parsed.subcommand.value
      if (sub[0] === "sweep") return yield* SweepCli.run(sub[1])
      if (sub[0] === "dashboard") return yield* DashboardCli.run(sub[1])
      if (sub[0] === "tasks") return yield* TasksCli.run(sub[1])
      if (sub[0] === "worker") return yield* WorkerCli.run(sub[1])
      if (sub[0] === "checkpoints") return yield* CheckpointsCli.run(sub[1])
      const p = sub[1].options
      if (!StorageName.exists(p.storage)) return yield* new MissingStorage({ path: p.storage })
      const program = ((): Effect.Effect<string, CommandError, Storage.Storage> => {
        switch (sub[0]) {
          case "studies":
            return commands.studies(sub[1].options)
          case "trials":
            return commands.trials(sub[1].options, sub[1].args)
          case "trial":
            return commands.trial(sub[1].options, ...sub[1].args)
          case "best":
            return commands.best(sub[1].options, sub[1].args)
          case "export":
            return commands.export(sub[1].options, sub[1].args)
          case "plot":
            return PlotCli.plot(sub[1])
          case "report":
            return PlotCli.report(sub[1])
          case "runs":
            return Runs.command(sub[1].args, { json: sub[1].options.json })
        }
      })()
      return yield* Effect.scoped(Effect.provide(program, Main.storageLayer(p.storage, { readonly: true })))
    }))
