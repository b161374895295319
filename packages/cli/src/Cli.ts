/**
 * The `tunekit` command: look at studies stored in SQLite from a terminal.
 *
 * ```
 * tunekit studies                      [--storage FILE] [--json]
 * tunekit trials STUDY                 [--storage FILE] [--json]
 * tunekit best STUDY                   [--storage FILE] [--json]
 * tunekit export STUDY --format csv|json|cv [--storage FILE] [--output FILE]
 * ```
 *
 * @since 0.1.0
 */
import { Data, Effect, Option } from "effect"
import * as fs from "node:fs"
import { Export, Storage, Study, Trial } from "@tunekit/core"

/** The storage file the examples write, used when `--storage` is not given. */
export const DEFAULT_STORAGE = "tunekit.db"

/** A command line the CLI cannot run: unknown command, missing argument, bad option. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly reason: string }> {
  override get message() {
    return `${this.reason}\n\n${USAGE}`
  }
}

/** The storage file does not exist. */
export class MissingStorage extends Data.TaggedError("MissingStorage")<{ readonly path: string }> {
  override get message() {
    return `no tunekit storage at ${this.path} (run a study first, or pass --storage FILE)`
  }
}

export const USAGE = `usage:
  tunekit studies                          list the studies
  tunekit trials STUDY                     list a study's trials
  tunekit best STUDY                       the best trial (or the Pareto front)
  tunekit export STUDY --format csv|json   every trial, one row each
  tunekit export STUDY --format cv         cross-validation scores (cv_results_) as CSV
options:
  --storage FILE   the SQLite file (default ${DEFAULT_STORAGE})
  --json           machine-readable output
  --output FILE    write the export to a file instead of stdout`

interface Parsed {
  readonly command: string | undefined
  readonly args: ReadonlyArray<string>
  readonly storage: string
  readonly json: boolean
  readonly format: string | undefined
  readonly output: string | undefined
}

const parse = (argv: ReadonlyArray<string>): Effect.Effect<Parsed, UsageError> =>
  Effect.suspend(() => {
    const args: Array<string> = []
    const opts: Record<string, string | true> = {}
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]
      if (a === "--json" || a === "--help" || a === "-h") opts[a.replace(/^-+/, "")] = true
      else if (a === "--storage" || a === "--format" || a === "--output") {
        const v = argv[++i]
        if (v === undefined || v.startsWith("--")) return Effect.fail(new UsageError({ reason: `${a} needs a value` }))
        opts[a.slice(2)] = v
      } else if (a.startsWith("-")) return Effect.fail(new UsageError({ reason: `unknown option ${a}` }))
      else args.push(a)
    }
    return Effect.succeed({
      command: opts.help || opts.h ? "help" : args[0],
      args: args.slice(1),
      storage: typeof opts.storage === "string" ? opts.storage : DEFAULT_STORAGE,
      json: opts.json === true,
      format: typeof opts.format === "string" ? opts.format : undefined,
      output: typeof opts.output === "string" ? opts.output : undefined
    })
  })

/** Pads cells into aligned columns. */
export const formatTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (r: ReadonlyArray<string>) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

const num = (v: number | undefined | null) => (v === undefined || v === null ? "-" : String(Number(v.toPrecision(6))))
const paramsText = (t: Trial.FrozenTrial) =>
  Object.entries(Trial.paramValues(t)).map(([k, v]) => `${k}=${typeof v === "number" ? num(v) : String(v)}`).join(" ")

const studyName = (p: Parsed) =>
  p.args[0] === undefined ? Effect.fail(new UsageError({ reason: `${p.command} needs a STUDY name` })) : Effect.succeed(p.args[0])

const load = (name: string) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const info = yield* storage.getStudy(name)
    const trials = yield* storage.getTrials(info.id)
    return { info, trials }
  })

const commands = {
  studies: (p: Parsed) =>
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
  trials: (p: Parsed) =>
    Effect.gen(function*() {
      const { info, trials } = yield* load(yield* studyName(p))
      const rows = Export.rows(trials, info.directions)
      if (p.json) return Export.toJson(rows)
      return formatTable(
        ["#", "state", "values", "rank", "duration_s", "params", "reason"],
        trials.map((t, i) => [
          String(t.number),
          t.state,
          t.values?.map((v) => num(v)).join(",") ?? "-",
          rows[i].rank === null ? "-" : String(rows[i].rank),
          num(rows[i].duration_s),
          paramsText(t),
          t.reason ?? ""
        ])
      )
    }),
  best: (p: Parsed) =>
    Effect.gen(function*() {
      const { info, trials } = yield* load(yield* studyName(p))
      const front = info.directions.length === 1
        ? Option.toArray(Study.bestOf(trials, info.directions[0]))
        : Study.paretoFrontOf(trials, info.directions)
      const rows = Export.rows(front, info.directions)
      if (p.json) return Export.toJson(info.directions.length === 1 ? rows.slice(0, 1) : rows)
      if (front.length === 0) return `study "${info.name}" has no complete trial yet`
      const title = info.directions.length === 1 ? `best trial of "${info.name}" (${info.directions[0]})` : `Pareto front of "${info.name}" (${info.directions.join(", ")})`
      return `${title}\n${formatTable(["#", "values", "params"], front.map((t) => [String(t.number), t.values!.map((v) => num(v)).join(","), paramsText(t)]))}`
    }),
  export: (p: Parsed) =>
    Effect.gen(function*() {
      const { info, trials } = yield* load(yield* studyName(p))
      const format = p.format ?? (p.json ? "json" : undefined)
      if (format !== "csv" && format !== "json" && format !== "cv") {
        return yield* new UsageError({ reason: `export needs --format csv, json or cv${format ? `, not ${format}` : ""}` })
      }
      const metric = info.metrics[0] ?? "score"
      const text = format === "cv"
        ? Export.cvToCsv(Export.cvRows(trials, { direction: info.directions[0], metric }))
        : format === "csv"
        ? Export.toCsv(Export.rows(trials, info.directions), info.directions.length)
        : Export.toJson(Export.rows(trials, info.directions)) + "\n"
      if (p.output === undefined) return text.trimEnd()
      fs.writeFileSync(p.output, text)
      return `wrote ${trials.length} trials to ${p.output}`
    })
}

/**
 * Runs the CLI on arguments and gives the text to print (or fails with a typed error).
 *
 * @example
 * import { Cli } from "@tunekit/cli"
 * import { Effect } from "effect"
 * const text = await Effect.runPromise(Cli.run(["studies", "--storage", "tunekit.db"]))
 */
export const run = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const p = yield* parse(argv)
    if (p.command === undefined || p.command === "help") return USAGE
    if (!(p.command in commands)) return yield* new UsageError({ reason: `unknown command ${p.command}` })
    if (!fs.existsSync(p.storage)) return yield* new MissingStorage({ path: p.storage })
    const command = commands[p.command as keyof typeof commands]
    return yield* Effect.scoped(Effect.provide(command(p), Storage.layerSqlite(p.storage)))
  })
