/**
 * A command-line program on Effect, as the `tunekit` command and the examples run: its arguments
 * parsed by @effect/cli (help, typed options whose values an effect/Schema checks, an unknown flag
 * an error that lists the known ones), and the program run by `NodeRuntime.runMain`, so that
 * SIGINT and SIGTERM interrupt it (a study's running trials end as Failed, "interrupted") and an
 * error prints as one line with a non-zero exit code.
 *
 * @example
 * import { CommandDescriptor as Descriptor, Options } from "@effect/cli"
 * import { Effect } from "effect"
 * import { Options as Check } from "@tunekit/core"
 * import { Main } from "@tunekit/cli"
 *
 * const command = Descriptor.make("count", Options.all({ to: Main.number("to", Check.PositiveInt, "how far to count") }))
 * Main.run("count", Main.dispatch(command, process.argv.slice(2), ({ options }) =>
 *   Effect.succeed(Array.from({ length: options.to }, (_, i) => i + 1).join(" "))))
 * // count --to 3    prints 1 2 3
 * // count --too 3   prints "count: unknown option --too (did you mean --to?); ..." and exits with 2
 *
 * @since 0.1.0
 */
import { Args, AutoCorrect, CliConfig, CommandDescriptor as Descriptor, HelpDoc, Options, Span, Usage, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Doc } from "@effect/printer"
import { Array as Arr, Cause, Data, Effect, Either, Exit, HashMap, HashSet, type Layer, Option, Schema, SchemaAST } from "effect"
import { Options as Check, type Storage, type StorageError } from "@tunekit/core"
import * as StorageName from "./internal/storageName.js"

/**
 * A command line that cannot run: an unknown command or flag, a missing argument, a bad value.
 *
 * @example
 * import { Main } from "@tunekit/cli"
 * new Main.UsageError({ reason: "unknown option --trails (did you mean --trials?)", command: "quickstart" }).message
 */
export class UsageError extends Data.TaggedError("UsageError")<{
  readonly reason: string
  /** The command it concerns, as typed ("tunekit trials"): its `--help` lists what it takes. */
  readonly command: string
}> {
  override get message() {
    return this.reason
  }
}

// Help lists the program's own options; the built-in ones it does not run (--wizard,
// --completions, --log-level) are left out.
const config: CliConfig.CliConfig = { ...CliConfig.defaultConfig, showBuiltIns: false }

const fail = (flag: string, raw: string, problem: Check.Problem) =>
  HelpDoc.p(`${flag}: ${problem.message === "is invalid" ? `invalid value ${JSON.stringify(raw)}` : problem.message}`)

/** Decodes a flag's or argument's text; the message names it (`--trials: expected a positive integer, got 0`). */
const decodeAs = <A, I extends string>(flag: string, schema: Schema.Schema<A, I>) => {
  const decode = Check.decodeEither(schema)
  return (raw: string): Effect.Effect<A, HelpDoc.HelpDoc> =>
    Either.match(decode(raw), {
      onLeft: (p) => Effect.fail(fail(flag, raw, p)),
      onRight: Effect.succeed
    })
}

/** What a flag or argument shows in help and usage. */
export interface Describe {
  readonly description: string
  /** The placeholder of its value in usage lines (`FILE`, `N`); default the Schema's title. */
  readonly placeholder?: string
}

const describeWith = (d: Describe | string): Describe => (typeof d === "string" ? { description: d } : d)

const titleOf = (schema: Schema.Schema.Any): string | undefined => Option.getOrUndefined(SchemaAST.getTitleAnnotation(schema.ast))

/**
 * A flag `--NAME VALUE` whose text a Schema decodes; a value it refuses is an error that names the
 * flag, with the Schema's message.
 *
 * @example
 * import { Schema } from "effect"
 * import { Main } from "@tunekit/cli"
 * const format = Main.option("format", Schema.Literal("csv", "json"), "the output format")
 */
export const option = <A, I extends string>(name: string, schema: Schema.Schema<A, I>, describe: Describe | string): Options.Options<A> => {
  const d = describeWith(describe)
  return Options.text(name).pipe(
    Options.withDescription(d.description),
    Options.withPseudoName(d.placeholder ?? "TEXT"),
    Options.mapEffect((raw) => Effect.mapError(decodeAs(`--${name}`, schema)(raw), ValidationError.invalidValue))
  )
}

/** Text read as a number: anything that is not one is refused with what the number should be. */
const numberFromText = (schema: Schema.Schema<number>): Schema.Schema<number, string> => {
  const what = titleOf(schema) ?? "a number"
  const text = Schema.String.pipe(Schema.filter((s) => s.trim() !== "" && !Number.isNaN(Number(s)))).annotations(Check.expecting(what))
  return Schema.compose(Schema.compose(text, Schema.NumberFromString), schema)
}

/**
 * A flag `--NAME N` read as a number and checked by a number Schema (core's `Options.PositiveInt`
 * and the like): `--trials abc` and `--trials 0` are both "expected a positive integer".
 *
 * @example
 * import { Options as Check } from "@tunekit/core"
 * import { Main } from "@tunekit/cli"
 * const trials = Main.number("trials", Check.PositiveInt, "how many trials to run")
 */
export const number = (name: string, schema: Schema.Schema<number>, describe: Describe | string): Options.Options<number> =>
  option(name, numberFromText(schema), { placeholder: "N", ...describeWith(describe) })

/**
 * A positional argument whose text a Schema decodes; a value it refuses is an error that names
 * the argument.
 *
 * @example
 * import { Options as Check } from "@tunekit/core"
 * import { Main } from "@tunekit/cli"
 * const study = Main.argument("STUDY", Check.NonEmptyString, "the study's name")
 */
export const argument = <A, I extends string>(name: string, schema: Schema.Schema<A, I>, description: string): Args.Args<A> =>
  Args.text({ name }).pipe(Args.withDescription(description), Args.mapEffect(decodeAs(name, schema)))

/**
 * A positional argument read as a number and checked by a number Schema.
 *
 * @example
 * import { Options as Check } from "@tunekit/core"
 * import { Main } from "@tunekit/cli"
 * const trial = Main.numberArgument("NUMBER", Check.NonNegativeInt, "the trial's number")
 */
export const numberArgument = (name: string, schema: Schema.Schema<number>, description: string): Args.Args<number> =>
  argument(name, numberFromText(schema), description)

/** A path given on the command line: any non-empty text. */
export const FilePath = Schema.String.pipe(Schema.minLength(1)).annotations(Check.expecting("a file path"))

/** The storage file the commands read when `--storage` is not given (the one the examples write). */
export const DEFAULT_STORAGE = "tunekit.db"

/**
 * `--storage FILE`, where a command's studies live: an SQLite file (default `tunekit.db`) or a
 * PostgreSQL database named by a `postgres://` or `postgresql://` URL.
 *
 * @example
 * import { Main } from "@tunekit/cli"
 * const storage = Main.storageOption
 */
export const storageOption: Options.Options<string> = option("storage", FilePath, {
  description: `the SQLite file, or a postgres:// URL (default ${DEFAULT_STORAGE})`,
  placeholder: "FILE"
}).pipe(Options.withDefault(DEFAULT_STORAGE))

/**
 * The storage a `--storage` value names: a PostgreSQL database for a `postgres://` or
 * `postgresql://` URL (its password from the URL, PGPASSWORD or a passfile, never shown), else an
 * SQLite file (`readonly` applies to files: a database's rights are its role's).
 *
 * @example
 * import { Main } from "@tunekit/cli"
 * const layer = Main.storageLayer("postgres://tunekit@db.example/studies")
 */
export const storageLayer: (name: string, options?: { readonly readonly?: boolean }) => Layer.Layer<Storage.Storage, StorageError> =
  StorageName.layer

/**
 * Whether a `--storage` value is a database URL (which is not a file to look for on disk).
 *
 * @example
 * import { Main } from "@tunekit/cli"
 * Main.isDatabaseUrl("postgresql://db/studies") // true
 */
export const isDatabaseUrl: (name: string) => boolean = StorageName.isUrl

/**
 * A `--storage` value as messages show it: a URL's password masked.
 *
 * @example
 * import { Main } from "@tunekit/cli"
 * Main.showStorage("postgres://me:secret@db/s") // "postgres://me:***@db/s"
 */
export const showStorage: (name: string) => string = StorageName.show

/** What a command line asks for: run the command with its parsed value, or print (help). */
export type Parsed<A> =
  | { readonly _tag: "Run"; readonly value: A }
  | { readonly _tag: "Print"; readonly text: string }

const nameOf = (command: Descriptor.Command<unknown>): string => Array.from(HashSet.values(Descriptor.getNames(command)))[0] ?? ""

/** The subcommand the arguments name (the deepest), with the words that name it. */
const selected = (command: Descriptor.Command<unknown>, argv: ReadonlyArray<string>) => {
  let current = command
  const words = [nameOf(command)]
  for (const arg of argv) {
    const sub = HashMap.get(Descriptor.getSubcommands(current), arg)
    if (Option.isSome(sub)) {
      current = sub.value
      words.push(arg)
    }
  }
  return { command: current, at: words.join(" "), subcommands: Array.from(HashMap.keys(Descriptor.getSubcommands(current))).sort() }
}

/** The flags a usage names: `--storage FILE`, `--json`. */
const flagsOf = (usage: Usage.Usage): Array<{ readonly names: ReadonlyArray<string>; readonly shown: string }> => {
  switch (usage._tag) {
    case "Named":
      return usage.names[0]?.startsWith("-")
        ? [{ names: usage.names, shown: `${usage.names.join(", ")}${Option.match(usage.acceptedValues, { onNone: () => "", onSome: (v) => ` ${v}` })}` }]
        : []
    case "Optional":
    case "Repeated":
      return flagsOf(usage.usage)
    case "Alternation":
    case "Concat":
      return [...flagsOf(usage.left), ...flagsOf(usage.right)]
    default:
      return []
  }
}

/** The flag nearest to a misspelled one, if it is near enough to be a typo. */
const nearest = (flag: string, names: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const n of names) {
    const d = AutoCorrect.levensteinDistance(flag, n, config)
    if (d < bestDistance) [best, bestDistance] = [n, d]
  }
  return bestDistance <= Math.max(2, Math.floor(flag.length / 3)) ? best : undefined
}

const unknownFlag = (command: Descriptor.Command<unknown>, argv: ReadonlyArray<string>, word: string): UsageError => {
  const s = selected(command, argv)
  const flags = flagsOf(Descriptor.getUsage(s.command))
  const flag = word.split("=")[0]
  if (flags.some((f) => f.names.includes(flag))) {
    const i = argv.lastIndexOf(word)
    const reason = i === argv.length - 1 || argv[i + 1].startsWith("-") ? `${flag} needs a value` : `${flag} is given more than once`
    return new UsageError({ reason, command: s.at })
  }
  if (!word.startsWith("-")) {
    return new UsageError({ reason: `unexpected argument ${JSON.stringify(word)} (see ${s.at} --help)`, command: s.at })
  }
  const near = nearest(flag, flags.flatMap((f) => f.names))
  const known = flags.length === 0 ? `${s.at} takes no options` : `the options of ${s.at} are ${flags.map((f) => f.shown).join(", ")}`
  return new UsageError({ reason: `unknown option ${flag}${near === undefined ? "" : ` (did you mean ${near}?)`}; ${known}`, command: s.at })
}

/** A help document as plain text (no colours, so that it reads the same in a file). */
const plain = (doc: HelpDoc.HelpDoc): string => Doc.render(Doc.unAnnotate(HelpDoc.toAnsiDoc(doc)), { style: "pretty" }).trimEnd()

const oneLine = (text: string): string => text.trim().replace(/\s*\n\s*/g, " ")

const fromValidation = (command: Descriptor.Command<unknown>, argv: ReadonlyArray<string>, e: ValidationError.ValidationError): UsageError => {
  const s = selected(command, argv)
  if (e._tag === "CommandMismatch" && s.subcommands.length > 0) {
    const word = argv[0]
    const reason = word === undefined || word.startsWith("-") ? "a command comes first" : `unknown command ${word}`
    return new UsageError({ reason: `${reason}; the commands are ${s.subcommands.join(", ")}`, command: s.at })
  }
  if (e._tag === "HelpRequested") return new UsageError({ reason: `see ${s.at} --help`, command: s.at })
  return new UsageError({ reason: `${oneLine(plain(e.error))} (see ${s.at} --help)`, command: s.at })
}

// Every flag read as text says "A user-defined piece of text." in help, whatever its Schema
// takes; its own description says that, so the line goes.
const TEXT = "A user-defined piece of text."
const withoutTextLine = (doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc => {
  switch (doc._tag) {
    case "Paragraph":
      return doc.value._tag === "Text" && doc.value.value === TEXT ? HelpDoc.empty : doc
    case "Sequence":
      return HelpDoc.sequence(withoutTextLine(doc.left), withoutTextLine(doc.right))
    case "DescriptionList":
      return HelpDoc.descriptionList(Arr.map(doc.definitions, ([span, d]) => [span, withoutTextLine(d)] as const))
    case "Enumeration":
      return HelpDoc.enumeration(Arr.map(doc.elements, withoutTextLine))
    default:
      return doc
  }
}

// A subcommand's usage starts with its own name: the words before it (`tunekit`) are added.
const helpText = (at: string, usage: Usage.Usage, help: HelpDoc.HelpDoc): string => {
  const parents = at.split(" ").slice(0, -1).join(" ")
  const prompt = parents === "" ? "$ " : `$ ${parents} `
  const lines = Usage.enumerate(usage, config).map((span) => HelpDoc.p(Span.concat(Span.text(prompt), span)))
  return plain(HelpDoc.blocks([HelpDoc.h1("USAGE"), ...lines, withoutTextLine(help)]))
}

/**
 * Parses a command line (without the program's name) with a command descriptor: the typed value,
 * help text when `--help` or `-h` is given, or a `UsageError` that says what is wrong in one line.
 * An unknown flag lists the known ones (and the nearest, for a typo); a refused value names the
 * flag.
 *
 * @example
 * import { CommandDescriptor as Descriptor, Options } from "@effect/cli"
 * import { Effect } from "effect"
 * import { Main } from "@tunekit/cli"
 * const command = Descriptor.make("hello", Options.all({ loud: Options.boolean("loud") }))
 * Effect.runPromise(Main.parse(command, ["--loud"])) // { _tag: "Run", value: { name: "hello", options: { loud: true }, args: undefined } }
 */
export const parse = <A>(command: Descriptor.Command<A>, argv: ReadonlyArray<string>): Effect.Effect<Parsed<A>, UsageError> =>
  Descriptor.parse(command, [nameOf(command), ...argv], config).pipe(
    Effect.mapError((e) => fromValidation(command, argv, e)),
    Effect.flatMap((directive): Effect.Effect<Parsed<A>, UsageError> => {
      if (directive._tag === "UserDefined") {
        return directive.leftover.length === 0
          ? Effect.succeed({ _tag: "Run", value: directive.value })
          : Effect.fail(unknownFlag(command, argv, directive.leftover[0]))
      }
      const s = selected(command, argv)
      return directive.option._tag === "ShowHelp"
        ? Effect.succeed({ _tag: "Print", text: helpText(s.at, directive.option.usage, directive.option.helpDoc) })
        : Effect.fail(new UsageError({ reason: `${s.at} does not take --${directive.option._tag === "ShowVersion" ? "version" : directive.option._tag === "ShowWizard" ? "wizard" : directive.option._tag === "ShowCompletions" ? "completions" : "log-level"}`, command: s.at }))
    }),
    Effect.provide(NodeContext.layer)
  )

/**
 * Parses a command line and runs `f` on its value; help gives its text instead.
 *
 * @example
 * import { CommandDescriptor as Descriptor, Options } from "@effect/cli"
 * import { Effect } from "effect"
 * import { Main } from "@tunekit/cli"
 * const command = Descriptor.make("hello", Options.all({ loud: Options.boolean("loud") }))
 * const program = Main.dispatch(command, process.argv.slice(2), ({ options }) => Effect.succeed(options.loud ? "HELLO" : "hello"))
 */
export const dispatch = <A, E, R>(
  command: Descriptor.Command<A>,
  argv: ReadonlyArray<string>,
  f: (value: A) => Effect.Effect<string, E, R>
): Effect.Effect<string, E | UsageError, R> =>
  Effect.flatMap(parse(command, argv), (parsed) => (parsed._tag === "Print" ? Effect.succeed(parsed.text) : f(parsed.value)))

const describeValue = (u: unknown): string => {
  if (typeof u === "string") return u
  if (typeof u === "object" && u !== null) {
    const message = (u as { message?: unknown }).message
    if (typeof message === "string" && message.trim() !== "") return message
    if ("_tag" in u) {
      const { _tag, ...fields } = u as { _tag: unknown }
      return Object.keys(fields).length === 0 ? String(_tag) : `${String(_tag)} ${Check.show(fields)}`
    }
  }
  return Check.show(u)
}

/**
 * The message of a failure, on one line: the error's message, a tagged error's tag and fields,
 * a defect's message; "interrupted" for an interruption.
 *
 * @example
 * import { Cause } from "effect"
 * import { Main } from "@tunekit/cli"
 * Main.messageOf(Cause.fail(new Error("no such file\nat line 2"))) // "no such file at line 2"
 */
export const messageOf = (cause: Cause.Cause<unknown>): string => {
  if (Cause.isInterruptedOnly(cause)) return "interrupted"
  const failure = Cause.failureOption(cause)
  const u = Option.isSome(failure) ? failure.value : Option.getOrUndefined(Cause.dieOption(cause))
  return oneLine(describeValue(u))
}

/** The exit code of a program's end: 0, 2 for a usage error, 130 when interrupted, else 1. */
export const exitCode = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit)) return 0
  if (Cause.isInterruptedOnly(exit.cause)) return 130
  const failure = Cause.failureOption(exit.cause)
  return Option.isSome(failure) && (failure.value as { _tag?: unknown })?._tag === "UsageError" ? 2 : 1
}

/**
 * Runs a program as the process's main fiber (`NodeRuntime.runMain`): SIGINT and SIGTERM
 * interrupt it, so that its finalizers run (a study fails its running trials, "interrupted", and
 * closes its storage) before the process exits. Its text goes to stdout; an error goes to stderr
 * as `NAME: message`, one line, with exit code 1 (2 for a usage error, 130 when interrupted).
 *
 * @example
 * import { Effect } from "effect"
 * import { Main } from "@tunekit/cli"
 * Main.run("hello", Effect.succeed("hello"))
 */
export const run = <E>(name: string, program: Effect.Effect<string | void, E>): void =>
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => {
      if (Exit.isSuccess(exit)) {
        if (typeof exit.value === "string") process.stdout.write(exit.value + "\n")
      } else {
        process.stderr.write(`${name}: ${messageOf(exit.cause)}\n`)
      }
      onExit(exitCode(exit))
    }
  })
