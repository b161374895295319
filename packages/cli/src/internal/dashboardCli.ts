// `tunekit dashboard [--storage FILE] [--port N] [--host ADDRESS] [--allow-write] [--token TOKEN]`:
// the live web dashboard (@tunekit/dashboard) on a storage file, until Ctrl-C.
import { CommandDescriptor as Descriptor, Options } from "@effect/cli"
import { type Checkpoint, Options as Check, type StorageError } from "@tunekit/core"
import { Dashboard, type DashboardError } from "@tunekit/dashboard"
import { Effect, Layer, Option, Schema } from "effect"
import { PostgresCheckpoint } from "@tunekit/postgres"
import { checkpointsOf } from "./checkpointsCli.js"
import * as StorageName from "./storageName.js"
import * as Main from "../Main.js"

const Port = Schema.Int.pipe(Schema.between(0, 65535)).annotations(Check.expecting("a port from 0 to 65535"))

/** The `dashboard` command. */
export const command = Descriptor.make(
  "dashboard",
  Options.all({
    storage: Main.storageOption,
    port: Main.number("port", Port, "the port to listen on (default 8080; 0 takes a free one)").pipe(Options.withDefault(8080)),
    host: Main.option("host", Check.NonEmptyString, {
      description: "the address to listen on (default 127.0.0.1); any other needs a token",
      placeholder: "ADDRESS"
    }).pipe(Options.withDefault("127.0.0.1")),
    allowWrite: Options.boolean("allow-write").pipe(
      Options.withDescription("enable the actions: enqueue a configuration, ask a trial to stop, edit notes (the storage is opened for writing)")
    ),
    token: Main.option("token", Check.NonEmptyString, {
      description: "the token every request needs (default: none on 127.0.0.1, a random one on any other address)",
      placeholder: "TOKEN"
    }).pipe(Options.optional)
  })
).pipe(Descriptor.withDescription("Serve the live web dashboard of the studies in a storage (an SQLite file or a postgres:// URL), until Ctrl-C."))

/** A parsed `dashboard` command line. */
export type Parsed = typeof command extends Descriptor.Command<infer A> ? A : never

/** Runs the dashboard until interrupted; its address is printed as soon as it listens. */
export const run = (parsed: Parsed): Effect.Effect<string, DashboardError | StorageError | Checkpoint.CheckpointError> =>
  Effect.gen(function*() {
    const o = parsed.options
    if (!StorageName.exists(o.storage)) return `no tunekit storage at ${o.storage} (run a study first, or pass --storage FILE|URL)`
    const options: Dashboard.Options = {
      port: o.port,
      host: o.host,
      allowWrite: o.allowWrite,
      ...(Option.isSome(o.token) ? { token: o.token.value } : {})
    }
    const announce = (r: Dashboard.Running) =>
      Effect.sync(() =>
        process.stdout.write(
          `tunekit dashboard of ${Main.showStorage(o.storage)} (${r.allowWrite ? "read-write" : "read-only"}): ${r.url}\n` +
            (r.token !== undefined && o.token._tag === "None" ? `  its token: ${r.token} (give --token to choose one)\n` : "") +
            "  Ctrl-C stops it\n"
        )
      )
    // Read-only unless writes are enabled: the dashboard then never takes a write lock.
    // The checkpoints a trial page lists: where `tunekit worker` and `tunekit checkpoints` look
    // (the storage's database, else the default folder); read only, never pruned from here.
    const checkpoints = PostgresCheckpoint.layerNamed(checkpointsOf(o.storage), { retention: false })
    return yield* Dashboard.serve(options, announce).pipe(
      Effect.provide(Layer.merge(Main.storageLayer(o.storage, { readonly: !o.allowWrite }), checkpoints))
    )
  })
