// `tunekit sweep run | agent | init | schema`: the command lines of sweeps (Sweep.ts does the work).
import { Args, CommandDescriptor as Descriptor, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { Options as Check } from "@tunekit/core"
import * as Main from "../Main.js"
import * as Sweep from "../Sweep.js"

const { FilePath } = Main
const count = Main.number("count", Check.PositiveInt, "run at most this many runs in this agent").pipe(Options.optional)
const storage = (description: string) => Main.option("storage", FilePath, { description, placeholder: "FILE" }).pipe(Options.optional)

/** The `sweep` command and its subcommands. */
export const command = Descriptor.make("sweep").pipe(
  Descriptor.withDescription("Run sweeps from a YAML file (W&B's sweep keys, and tunekit's)."),
  Descriptor.withSubcommands([
    [
      "run",
      Descriptor.make(
        "run",
        Options.all({ storage: storage("the SQLite file (default: the file's `storage`, else tunekit.db)"), count }),
        Main.argument("FILE", FilePath, "the sweep file")
      ).pipe(Descriptor.withDescription("Run a sweep from its file; run again, it carries on where it stopped."))
    ],
    [
      "agent",
      Descriptor.make(
        "agent",
        Options.all({ storage: storage("the SQLite file the sweep is in (default tunekit.db)"), count }),
        Main.argument("NAME", Check.NonEmptyString, "the sweep's name")
      ).pipe(Descriptor.withDescription("Run more of a sweep that storage holds (from any number of processes)."))
    ],
    [
      "init",
      Descriptor.make(
        "init",
        Options.all({ force: Options.boolean("force").pipe(Options.withDescription("overwrite the file")) }),
        Main.argument("FILE", FilePath, "where to write it (default sweep.yaml)").pipe(Args.optional)
      ).pipe(Descriptor.withDescription("Write an annotated example sweep file (and a train.py to run, if there is none)."))
    ],
    ["schema", Descriptor.make("schema").pipe(Descriptor.withDescription("Print the JSON Schema of sweep files (docs/sweep.schema.json)."))]
  ])
)

/** A parsed `sweep` command line. */
export type Parsed = typeof command extends Descriptor.Command<infer A> ? A : never

/** Runs a parsed `sweep` command line: the text to print. */
export const run = (parsed: Parsed): Effect.Effect<string, Main.UsageError | Sweep.RunError> =>
  Effect.gen(function*() {
    if (Option.isNone(parsed.subcommand)) {
      return yield* new Main.UsageError({ reason: "tunekit sweep needs a command: run, agent, init or schema; see tunekit sweep --help", command: "tunekit sweep" })
    }
    const sub = parsed.subcommand.value
    const progress = process.stderr.isTTY === true
    switch (sub[0]) {
      case "run": {
        const { count, storage } = sub[1].options
        return (yield* Sweep.run(sub[1].args, { storage: Option.getOrUndefined(storage), count: Option.getOrUndefined(count), progress })).text
      }
      case "agent": {
        const { count, storage } = sub[1].options
        return (yield* Sweep.agent(sub[1].args, { storage: Option.getOrUndefined(storage), count: Option.getOrUndefined(count), progress })).text
      }
      case "init":
        return yield* Sweep.init(Option.getOrElse(sub[1].args, () => "sweep.yaml"), { force: sub[1].options.force })
      case "schema":
        return JSON.stringify(Sweep.jsonSchema(), null, 2)
    }
  })
