// What every example shares to run as a script: its command-line options (parsed by @effect/cli,
// checked by effect/Schema), the run as the process's main fiber, and the line that tells how to
// list the stored study.
import { CommandDescriptor, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { pathToFileURL } from "node:url"
import { Main } from "@tunekit/cli"
import { Options as Check } from "@tunekit/core"

/** Whether a module is the script node was started with. */
export const isMain = (url: string): boolean => url === pathToFileURL(process.argv[1] ?? "").href

/** An option that may be left out: its value, or undefined (the example's default applies). */
export const optional = <A>(option: Options.Options<A>): Options.Options<A | undefined> =>
  option.pipe(Options.optional, Options.map(Option.getOrUndefined))

const count = (name: string, description: string) => optional(Main.number(name, Check.PositiveInt, description))

const TreeCounts = Schema.transform(
  Schema.String.pipe(Schema.pattern(/^\s*[1-9]\d*\s*(,\s*[1-9]\d*\s*)*$/)).annotations(Check.expecting("positive integers separated by commas")),
  Schema.Array(Schema.Number),
  { strict: true, decode: (s) => s.split(",").map(Number), encode: (ns) => ns.join(",") }
)

/** The options the examples take; each example picks its own. */
export const flags = {
  trials: count("trials", "how many trials to run"),
  epochs: count("epochs", "the most epochs a trial trains"),
  configs: count("configs", "how many configurations to try"),
  population: count("population", "how many members the population trains at once"),
  messages: count("messages", "how many messages of the corpus to use"),
  storage: optional(Main.option("storage", Check.NonEmptyString, { description: "the SQLite file the study is stored in (default tunekit.db)", placeholder: "FILE" })),
  trees: optional(Main.option("trees", TreeCounts, { description: "the forest sizes to search, such as 20,50", placeholder: "N,N,..." }))
}

type Values<C> = { readonly [K in keyof C]: C[K] extends Options.Options<infer A> ? A : never }

/**
 * Runs an example as a script: parses its options (`--help` lists them; an unknown flag is an
 * error that lists them), runs `main` as the process's main fiber, so that Ctrl-C interrupts the
 * study (its running trials end as Failed, "interrupted") before the process exits, and prints
 * its text, or its error on one line with exit code 1 (2 for a bad command line).
 */
export const script = <C extends Record<string, Options.Options<any>>, E>(
  name: string,
  options: C,
  main: (options: Values<C>) => Effect.Effect<{ readonly text: string }, E>
): void =>
  Main.run(
    name,
    Main.dispatch(CommandDescriptor.make(name, Options.all(options as Record<string, Options.Options<unknown>>)), process.argv.slice(2), (parsed) =>
      Effect.map(main(parsed.options as Values<C>), (r) => r.text))
  )

/** The command that lists a study stored in `storage` (the CLI's default file needs no option). */
export const listCommand = (study: string, storage: string): string =>
  `list the study: npx tunekit trials ${study}${storage === "tunekit.db" ? "" : ` --storage ${storage}`}`
