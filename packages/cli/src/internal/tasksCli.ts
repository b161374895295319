// `tunekit tasks [similar NAME | record STUDY --task NAME]`: the hyperparameter-transfer database
// (@tunekit/transfer) kept where the studies are: the same SQLite file, or the same PostgreSQL
// database (and schema) for a postgres:// URL.
import { CommandDescriptor as Descriptor, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import * as StorageName from "./storageName.js"
import { Options as Check, type StorageError, type StudyNotFound } from "@tunekit/core"
import { PostgresTransfer } from "@tunekit/postgres"
import { Commands, type NoMetaFeatures, type Transfer, type TransferError } from "@tunekit/transfer"
import * as Main from "../Main.js"


/** The `tasks` command and its subcommands. */
export const command = Descriptor.make("tasks", Options.all({ storage: Main.storageOption })).pipe(
  Descriptor.withDescription("List the tasks of the transfer database, with their studies and best values."),
  Descriptor.withSubcommands([
    [
      "similar",
      Descriptor.make(
        "similar",
        Options.all({ k: Main.number("k", Check.PositiveInt, "how many tasks (default 5)").pipe(Options.optional) }),
        Main.argument("NAME", Check.NonEmptyString, "the task")
      ).pipe(Descriptor.withDescription("The most similar tasks, by their meta-features."))
    ],
    [
      "record",
      Descriptor.make(
        "record",
        Options.all({ task: Main.option("task", Check.NonEmptyString, { description: "the task to record it under", placeholder: "NAME" }) }),
        Main.argument("STUDY", Check.NonEmptyString, "the study")
      ).pipe(Descriptor.withDescription("Record a study of the storage under a task."))
    ]
  ])
)

/** What a `tasks` command can fail with. */
export type TasksError = TransferError | NoMetaFeatures | StorageError | StudyNotFound

/** A parsed `tasks` command line. */
export type Parsed = typeof command extends Descriptor.Command<infer A> ? A : never

/** Runs a parsed `tasks` command line: the text to print. */
export const run = (parsed: Parsed): Effect.Effect<string, TasksError> =>
  Effect.gen(function*() {
    const where = parsed.options.storage
    if (!StorageName.exists(where)) return `no tunekit storage at ${where} (run a study first, or pass --storage FILE)`
    const sub = Option.getOrUndefined(parsed.subcommand)
    const work: Effect.Effect<string, TasksError, Transfer.Transfer> = sub === undefined
      ? Commands.tasks()
      : sub[0] === "similar"
      ? Commands.similar(sub[1].args, Option.getOrElse(sub[1].options.k, () => 5))
      : Effect.scoped(Effect.provide(Commands.record(sub[1].args, sub[1].options.task), Main.storageLayer(where, { readonly: true })))
    return yield* Effect.scoped(Effect.provide(work, PostgresTransfer.layerNamed(where)))
  })
