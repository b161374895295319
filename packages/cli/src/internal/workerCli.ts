// `tunekit worker --study NAME [--storage S] [--slots N] [--count N] [--module FILE [--export NAME]]`:
// the command line of workers (Worker.ts does the work).
import { CommandDescriptor as Descriptor, Options } from "@effect/cli"
import { Effect, Layer, Option } from "effect"
import { type Checkpoint, Options as Check, type StorageError } from "@tunekit/core"
import { PostgresCheckpoint } from "@tunekit/postgres"
import { checkpointsOf } from "./checkpointsCli.js"
import * as Main from "../Main.js"
import type * as Sweep from "../Sweep.js"
import * as Worker from "../Worker.js"

/** The `worker` command. */
export const command = Descriptor.make(
  "worker",
  Options.all({
    study: Main.option("study", Check.NonEmptyString, { description: "the study's name", placeholder: "NAME" }),
    storage: Main.storageOption,
    slots: Main.number("slots", Check.PositiveInt, "trials at once in this worker (default 1)").pipe(Options.optional),
    count: Main.number("count", Check.PositiveInt, "at most this many new configurations in this worker").pipe(Options.optional),
    module: Main.option("module", Main.FilePath, { description: "the module that defines the study (Worker.define), unless it is a sweep", placeholder: "FILE" }).pipe(Options.optional),
    export: Main.option("export", Check.NonEmptyString, { description: "the module's export (default study)", placeholder: "NAME" }).pipe(Options.optional)
  })
).pipe(Descriptor.withDescription("Run trials of a study from shared storage; start any number, on any machines."))

/** A parsed `worker` command line. */
export type Parsed = typeof command extends Descriptor.Command<infer A> ? A : never

/** Runs a parsed `worker` command line: the summary to print. */
export const run = (parsed: Parsed): Effect.Effect<string, Worker.WorkerError | Sweep.RunError | StorageError | Checkpoint.CheckpointError> => {
  const o = parsed.options
  const options: Worker.Options = {
    study: o.study,
    storage: Main.showStorage(o.storage),
    ...Option.match(o.slots, { onNone: () => ({}), onSome: (slots) => ({ slots }) }),
    ...Option.match(o.count, { onNone: () => ({}), onSome: (count) => ({ count }) }),
    ...Option.match(o.module, { onNone: () => ({}), onSome: (module) => ({ module }) }),
    ...Option.match(o.export, { onNone: () => ({}), onSome: (name) => ({ export: name }) }),
    progress: process.stderr.isTTY === true
  }
  // Checkpoints every worker reaches: in the study's database on PostgreSQL, else in the folder
  // `tunekit checkpoints` reads (a study module's own Checkpoint layer takes precedence).
  const checkpoints = PostgresCheckpoint.layerNamed(checkpointsOf(o.storage))
  return Effect.scoped(Effect.map(Effect.provide(Worker.run(options), Layer.merge(Main.storageLayer(o.storage), checkpoints)), (s) => s.text))
}
