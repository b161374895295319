// A sweep file: W&B's keys and tunekit's, decoded by one effect/Schema. Decoding a YAML text keeps
// the positions of its nodes, so that an error names the line, the column and the key, and
// suggests the closest valid key or value.
import { AutoCorrect, CliConfig } from "@effect/cli"
import { Data, Duration, Either, Option, ParseResult, Schema } from "effect"
import { Options } from "@tunekit/core"
import { Asha, Hyperband, Median, Patience, Percentile, SuccessiveHalving, Threshold, Wilcoxon } from "@tunekit/schedulers"
import * as YAML from "yaml"
import { commandIssue } from "./sweepCommand.js"
import { type Method, METHODS, methodIssue, type ParamInput, ParamSchema, warnings as paramWarnings } from "./sweepParams.js"
import { bands, type EarlyTerminate } from "./sweepStop.js"

/** tunekit's schedulers a sweep can name (`scheduler: { type: asha, ... }`), with their options' Schemas. */
export const SCHEDULERS = {
  median: Median,
  percentile: Percentile,
  threshold: Threshold,
  patience: Patience,
  wilcoxon: Wilcoxon,
  successive_halving: SuccessiveHalving,
  asha: Asha,
  hyperband: Hyperband
} as const

export type SchedulerType = keyof typeof SCHEDULERS

/** A duration: seconds, or text such as "90 seconds", "2 hours". */
export type DurationIn = number | string

/** A sweep file, as decoded. */
export interface SweepInput {
  readonly program?: string | undefined
  readonly command?: ReadonlyArray<string> | undefined
  readonly method: Method
  readonly metric: { readonly name: string; readonly goal?: "minimize" | "maximize" | undefined; readonly target?: number | undefined }
  readonly parameters: { readonly [name: string]: ParamInput }
  readonly early_terminate?: EarlyTerminate | undefined
  readonly run_cap?: number | undefined
  readonly name?: string | undefined
  readonly description?: string | undefined
  readonly entity?: string | undefined
  readonly project?: string | undefined
  readonly scheduler?: { readonly type: SchedulerType; readonly [option: string]: unknown } | undefined
  readonly storage?: string | undefined
  readonly concurrency?: number | undefined
  readonly executor?: "process" | ExecutorInput | undefined
  readonly seed?: number | undefined
  readonly timeout?: DurationIn | undefined
  readonly trial_timeout?: DurationIn | undefined
}

/** `executor` as the file gives it: programs run as processes. */
export interface ExecutorInput {
  readonly type?: "process" | undefined
  /** At most this many programs at once (default: `concurrency`). */
  readonly slots?: number | undefined
  /** Between SIGTERM and SIGKILL when a program is stopped (default 5 seconds). */
  readonly grace?: DurationIn | undefined
  /** Where each trial's stdout and stderr are kept (default `.tunekit/logs` beside the file). */
  readonly logs?: string | undefined
  /** Where each trial's checkpoint folder is (default `.tunekit/checkpoints` beside the file). */
  readonly checkpoints?: string | undefined
}

/** A duration from the file's form. */
export const toDuration = (d: DurationIn): Duration.Duration =>
  typeof d === "number" ? Duration.seconds(d) : Option.getOrThrow(Duration.decodeUnknown(d))

const DurationSchema: Schema.Schema<DurationIn> = Schema.Union(
  Options.NonNegative,
  Schema.String.pipe(Schema.filter((s) => Option.isSome(Duration.decodeUnknown(s))))
).annotations(Options.expecting("a duration: seconds, or text such as \"90 seconds\" or \"2 hours\""))

const Text = Options.NonEmptyString

const MetricSchema = Schema.Struct({
  name: Text.annotations({ description: "the metric the program reports, which the sweep optimizes" }),
  goal: Schema.optional(Options.literals("minimize", "maximize")).annotations({ description: "minimize (default) or maximize" }),
  target: Schema.optional(Options.Finite).annotations({ description: "no new run starts once a run reaches this value" })
})

const EarlyTerminateSchema: Schema.Schema<EarlyTerminate> = Schema.Struct({
  type: Options.literals("hyperband"),
  min_iter: Schema.optional(Options.PositiveInt).annotations({ description: "the iteration of the first bracket" }),
  max_iter: Schema.optional(Options.PositiveInt).annotations({ description: "the most iterations (with s)" }),
  s: Schema.optional(Options.PositiveInt).annotations({ description: "how many brackets (with max_iter)" }),
  eta: Schema.optional(Options.number({ above: 1 })).annotations({ description: "the bracket multiplier (default 3)" }),
  strict: Schema.optional(Options.Boolean).annotations({ description: "compare the value at the bracket rather than the best so far (default false)" })
}).pipe(
  Schema.filter((o) =>
    o.min_iter !== undefined || (o.max_iter !== undefined && o.s !== undefined)
      ? bands(o).length > 0 || "gives no bracket: increase s or max_iter, or decrease eta"
      : "give min_iter, or max_iter and s"
  )
)

const schedulerTypes = Object.keys(SCHEDULERS) as Array<SchedulerType>

// The scheduler's options are its own Schema's (the same as in code): the type picks it.
const SchedulerSchema = Schema.Struct(
  { type: Options.literals(...schedulerTypes).annotations({ description: "a tunekit scheduler" }) },
  { key: Schema.String, value: Schema.Unknown }
).pipe(
  Schema.filter((s) => {
    const { type, ...options } = s
    const decoded = Options.decodeEither(SCHEDULERS[type].OptionsSchema as Schema.Schema<unknown, unknown>)(options)
    return Either.isRight(decoded) || { path: decoded.left.keys ?? [], message: decoded.left.message }
  }),
  Schema.annotations({
    jsonSchema: {
      description: "a tunekit scheduler, with its options (instead of early_terminate)",
      anyOf: schedulerTypes.map((t) => {
        const { $schema: _, ...js } = Options.jsonSchema(SCHEDULERS[t].OptionsSchema as Schema.Schema<unknown, unknown>) as unknown as Record<string, unknown> & { properties?: object; required?: Array<string> }
        return { ...js, required: ["type", ...(js.required ?? [])], properties: { type: { const: t }, ...js.properties } }
      })
    }
  })
)

const ExecutorSchema = Schema.Union(
  Options.literals("process"),
  Schema.Struct({
    type: Schema.optional(Options.literals("process")),
    slots: Schema.optional(Options.PositiveInt).annotations({ description: "at most this many programs at once (default: concurrency)" }),
    grace: Schema.optional(DurationSchema).annotations({ description: "between SIGTERM and SIGKILL when a program is stopped (default 5 seconds)" }),
    logs: Schema.optional(Text).annotations({ description: "where each trial's stdout and stderr are kept (default .tunekit/logs)" }),
    checkpoints: Schema.optional(Text).annotations({ description: "where each trial's checkpoint folder is (default .tunekit/checkpoints)" })
  })
)

const slotsOf = (e: SweepInput["executor"]) => (typeof e === "object" ? e.slots : undefined)

/** The Schema of a sweep file. */
export const SweepSchema: Schema.Schema<SweepInput, any> = Schema.Struct({
  program: Schema.optional(Text).annotations({ description: "the training script (W&B); ${program} in the command" }),
  command: Schema.optional(Schema.Array(Schema.Union(Schema.String, Schema.transform(Options.Finite, Schema.String, { decode: String, encode: Number }))).pipe(Schema.minItems(1)))
    .annotations({ description: "the program's argv, with W&B's macros (default ${env} ${interpreter} ${program} ${args})" }),
  method: Options.literals(...METHODS).annotations({ description: "grid, random, bayes (Gaussian process) or tunekit's tpe, gp, cmaes, qmc, auto" }),
  metric: MetricSchema,
  parameters: Schema.Record({ key: Schema.String, value: ParamSchema }).pipe(
    Schema.filter((ps) => Object.keys(ps).length > 0 || "needs at least one parameter")
  ),
  early_terminate: Schema.optional(EarlyTerminateSchema),
  run_cap: Schema.optional(Options.PositiveInt).annotations({ description: "the most runs of the sweep, over all its agents" }),
  name: Schema.optional(Text).annotations({ description: "the sweep's (and its study's) name; default: the file's name" }),
  description: Schema.optional(Schema.String),
  entity: Schema.optional(Schema.String).annotations({ description: "W&B's; kept with the study" }),
  project: Schema.optional(Schema.String).annotations({ description: "W&B's; kept with the study" }),
  scheduler: Schema.optional(SchedulerSchema),
  storage: Schema.optional(Text).annotations({ description: "the sweep's storage: an SQLite file (relative to this file), or a postgres:// URL (default tunekit.db)" }),
  concurrency: Schema.optional(Options.PositiveInt).annotations({ description: "runs at once in one agent (default 1)" }),
  executor: Schema.optional(ExecutorSchema),
  seed: Schema.optional(Options.NonNegativeInt).annotations({ description: "the seed of the search (default: random)" }),
  timeout: Schema.optional(DurationSchema).annotations({ description: "no run starts after this long" }),
  trial_timeout: Schema.optional(DurationSchema).annotations({ description: "a run longer than this is stopped and failed" })
}).pipe(
  Schema.filter((s) => {
    if (s.program === undefined && s.command === undefined) return "give a `program` (run as ${env} ${interpreter} ${program} ${args}) or a `command`"
    const c = s.command === undefined ? undefined : commandIssue(s.command, s.program !== undefined, closest)
    if (c !== undefined) return { path: ["command", c.index], message: c.message }
    const m = methodIssue(s.method, s.parameters)
    if (m !== undefined) return { path: ["parameters", ...m.path], message: m.message }
    if (s.early_terminate !== undefined && s.scheduler !== undefined) {
      return { path: ["scheduler"], message: "give early_terminate or scheduler, not both" }
    }
    const slots = slotsOf(s.executor)
    if (slots !== undefined && (s.concurrency ?? 1) > slots) {
      return { path: ["concurrency"], message: `runs ${s.concurrency} at once, more than the executor's ${slots} slots` }
    }
    return true
  }),
  Schema.annotations({ title: "tunekit sweep", description: "A tunekit sweep file: W&B's sweep keys and tunekit's own." })
)

/** The closest of some words to a misspelled one, when it is close enough to be a typo. */
export const closest = (word: string, among: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let distance = Infinity
  for (const w of among) {
    const d = AutoCorrect.levensteinDistance(word, w, CliConfig.defaultConfig)
    if (d < distance) [best, distance] = [w, d]
  }
  return distance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

/** Where in a file: 1-based line and column. */
export interface Position {
  readonly line: number
  readonly column: number
}

/** A sweep file that cannot run, with where and why. */
export class SweepFileError extends Data.TaggedError("SweepFileError")<{
  readonly file: string
  readonly line: number
  readonly column: number
  /** The key's path (`parameters.lr.distribution`), "" for the file as a whole. */
  readonly key: string
  readonly reason: string
}> {
  override get message() {
    return `${this.file}:${this.line}:${this.column}: ${this.key === "" ? "" : `${this.key}: `}${this.reason}`
  }
}

/** A warning about a file that decodes, with where. */
export interface SweepWarning extends Position {
  readonly key: string
  readonly message: string
}

// W&B keys tunekit does not take, and why (a misspelled key gets "did you mean" instead).
const WANDB_ONLY: Readonly<Record<string, string>> = {
  controller: "W&B's local or cloud controller: a tunekit sweep is controlled by its storage",
  job: "W&B Launch's job: give the `program` or `command` to run",
  image_uri: "W&B Launch's image: give the `program` or `command` to run",
  metrics: "W&B's multi-objective list for `method: custom`: give one `metric`",
  apiVersion: "W&B's",
  kind: "W&B's",
  impute: "W&B's value for failed runs in its Bayesian search: tunekit's samplers skip failed trials",
  impute_while_running: "W&B's value for running runs in its Bayesian search"
}

const quoted = (message: string) => Array.from(message.matchAll(/"([^"]+)"/g), (m) => m[1])

/** The reason, with "did you mean" for a misspelled key or value. */
const explain = (problem: Options.Problem, input: unknown): string => {
  const keys = problem.keys ?? []
  const last = keys[keys.length - 1]
  if (keys.length === 1 && last === "metric" && problem.message === "is required") {
    return "is required: name the metric the program reports, which the sweep optimizes (metric: {name: val_loss, goal: minimize})"
  }
  if (problem.message.startsWith("is not an option here")) {
    if (typeof last === "string" && WANDB_ONLY[last] !== undefined && (keys.length === 1 || keys[0] === "metric")) {
      return `is a W&B key that tunekit does not take (${WANDB_ONLY[last]})`
    }
    const near = typeof last === "string" ? closest(last, quoted(problem.message)) : undefined
    return near === undefined ? problem.message.replace("is not an option here", "is not a key here") : `is not a key here; did you mean ${near}?`
  }
  const value = keys.reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<PropertyKey, unknown>)[k] : undefined), input)
  if (typeof value === "string" && problem.message.startsWith("expected one of")) {
    const near = closest(value, quoted(problem.message.split(", got ")[0]))
    if (near !== undefined) return `${problem.message}; did you mean ${near}?`
  }
  return problem.message
}

/** Decodes a value (a stored definition, say) without positions: the problem names the key. */
export const decodeValue = (input: unknown): Either.Either<SweepInput, { readonly key: string; readonly reason: string }> =>
  Either.mapLeft(Schema.decodeUnknownEither(SweepSchema, { onExcessProperty: "error" })(input), (e) => {
    const p = Options.problemOf(e)
    return { key: p.path, reason: explain(p, input) }
  })

const FLOAT_TAG = "tag:yaml.org,2002:float"
// PyYAML, which W&B reads sweep files with, needs `!!float 1e-5`: take the tag (and `!!int`).
const tags: Array<YAML.ScalarTag> = [
  { tag: FLOAT_TAG, identify: (v) => typeof v === "number", resolve: (s) => Number(s) },
  { tag: "tag:yaml.org,2002:int", identify: (v) => typeof v === "number" && Number.isInteger(v), resolve: (s) => Number(s) }
]

const writtenAsFloat = (node: unknown): boolean =>
  YAML.isScalar(node) && typeof node.value === "number" && (node.tag === FLOAT_TAG || /[.eE]/.test(node.source ?? ""))

/**
 * W&B takes min and max written as floats (`min: 1.0`) as `uniform`, as integers as
 * `int_uniform`; JSON numbers cannot tell, so the distribution is written in where the text says.
 */
const inferFloats = (doc: YAML.Document, params: unknown, at: ReadonlyArray<unknown>): void => {
  if (params === null || typeof params !== "object") return
  for (const [k, p] of Object.entries(params as Record<string, Record<string, unknown>>)) {
    if (p === null || typeof p !== "object") continue
    if (p.parameters !== undefined) {
      inferFloats(doc, p.parameters, [...at, k, "parameters"])
      continue
    }
    if (p.distribution !== undefined || typeof p.min !== "number" || typeof p.max !== "number") continue
    if (writtenAsFloat(doc.getIn([...at, k, "min"], true)) || writtenAsFloat(doc.getIn([...at, k, "max"], true))) p.distribution = "uniform"
  }
}

/** The position of a path's node: a scalar's own, a collection's key (or of its nearest ancestor). */
const locate = (doc: YAML.Document, lines: YAML.LineCounter, keys: ReadonlyArray<PropertyKey>, atKey: boolean): Position => {
  for (let n = keys.length; n > 0; n--) {
    const path = keys.slice(0, n)
    const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true)
    const last = path[n - 1]
    let node: YAML.Node | null | undefined
    let keyNode: YAML.Node | null | undefined
    if (YAML.isMap(parent)) {
      const pair = parent.items.find((p) => (YAML.isScalar(p.key) ? p.key.value : p.key) === last)
      node = pair?.value as YAML.Node | null | undefined
      keyNode = pair?.key as YAML.Node | null | undefined
    } else if (YAML.isSeq(parent) && typeof last === "number") {
      node = parent.items[last] as YAML.Node | undefined
      keyNode = node
    }
    if (keyNode === undefined || keyNode === null) continue
    const target = n === keys.length && !atKey && YAML.isScalar(node) ? node : keyNode
    const at = target.range?.[0] ?? 0
    const pos = lines.linePos(at)
    return { line: pos.line, column: pos.col }
  }
  return { line: 1, column: 1 }
}

/** A sweep file's text, decoded: the input (as it will be stored), the decoded sweep and warnings. */
export interface Parsed {
  readonly raw: unknown
  readonly input: SweepInput
  readonly warnings: ReadonlyArray<SweepWarning>
}

/**
 * Parses and decodes a sweep file's YAML text. An error names the line, the column and the key.
 */
export const parse = (text: string, file: string): Either.Either<Parsed, SweepFileError> => {
  const lines = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, { lineCounter: lines, keepSourceTokens: true, customTags: (t) => [...t, ...tags], uniqueKeys: true })
  const fail = (pos: Position, key: string, reason: string) => Either.left(new SweepFileError({ file, line: pos.line, column: pos.column, key, reason }))
  const yamlError = doc.errors[0]
  if (yamlError !== undefined) {
    const [pos] = yamlError.linePos ?? [{ line: 1, col: 1 }]
    return fail({ line: pos.line, column: pos.col }, "", yamlError.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, ""))
  }
  if (!YAML.isMap(doc.contents)) return fail({ line: 1, column: 1 }, "", "a sweep file is a map of keys: program, method, metric, parameters, ...")
  const raw = doc.toJS() as Record<string, unknown>
  inferFloats(doc, raw.parameters, ["parameters"])
  const decoded = Schema.decodeUnknownEither(SweepSchema, { onExcessProperty: "error" })(raw)
  if (Either.isLeft(decoded)) {
    const problem = Options.problemOf(decoded.left as ParseResult.ParseError)
    const keys = problem.keys ?? []
    const atKey = problem.message.startsWith("is not an option here") || problem.message === "is required"
    // A key the file does not hold (a distribution W&B infers) is not named: its parameter is.
    const shown = atKey ? keys : keys.slice(0, Math.max(0, ...keys.map((_, i) => (doc.hasIn(keys.slice(0, i + 1)) ? i + 1 : 0))))
    return fail(locate(doc, lines, keys, atKey), Options.formatPath(shown), explain(problem, raw))
  }
  const input = decoded.right
  const warnings = paramWarnings(input.parameters).map((w): SweepWarning => {
    const keys = ["parameters", ...w.path]
    return { ...locate(doc, lines, keys, false), key: Options.formatPath(keys), message: w.message }
  })
  for (const w of doc.warnings) {
    const [pos] = w.linePos ?? [{ line: 1, col: 1 }]
    warnings.push({ line: pos.line, column: pos.col, key: "", message: w.message.split("\n")[0] })
  }
  return Either.right({ raw, input, warnings })
}

/** The JSON Schema of a sweep file, for editors (`# yaml-language-server: $schema=...`). */
export const jsonSchema = (): object => {
  const js = Options.jsonSchema(SweepSchema) as unknown as Record<string, unknown>
  return { $schema: js.$schema, $id: "https://tunekit.dev/sweep.schema.json", ...js }
}
