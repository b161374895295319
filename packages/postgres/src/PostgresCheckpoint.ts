/**
 * Checkpoints in PostgreSQL: every worker of a study, on any machine, saves and loads them in the
 * database that holds the study, so that a PBT exploit can copy the weights of a trial that ran
 * elsewhere. The data is kept in `bytea` chunks (1 MiB by default), written a chunk a statement
 * in one transaction and read a batch at a time, with its length and SHA-256 checked on load (a
 * mismatch is `CheckpointCorrupt`). It passes the Checkpoint conformance suite.
 *
 * The tables (`checkpoints`, `checkpoint_chunks`) live in the storage's schema (default `tunekit`)
 * and are created on first use. The layer applies the default retention policy
 * (`Retention.defaults`), as `Checkpoint.layer` does for files.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { Study } from "@tunekit/core"
 * import { Postgres, PostgresCheckpoint } from "@tunekit/postgres"
 *
 * const url = "postgres://tunekit@db.example:5432/studies"
 * const services = Layer.merge(Postgres.layer(url), PostgresCheckpoint.layer(url))
 * // Study.optimize({ ... }).pipe(Effect.provide(services))
 *
 * @since 0.1.0
 */
import { Checkpoint, Retention } from "@tunekit/core"
import { Effect, Layer, type Scope } from "effect"
import * as Connection from "./internal/connection.js"
import { makePgCheckpoints } from "./internal/pgCheckpoints.js"

/** Where to connect, and how the checkpoints are kept. */
export interface Options extends Connection.ConnectionOptions {
  /** The PostgreSQL schema holding the tables (default "tunekit", the storage's). */
  readonly schema?: string
  /** Connections in this store's pool (default 4). */
  readonly poolSize?: number
  /** The size of a `bytea` chunk in bytes (default 1 MiB). */
  readonly chunkBytes?: number
  /** How long a call keeps retrying while the server is unreachable, in ms (default 60 s). */
  readonly retryMs?: number
  /** The retention policy of `layer` (default `Retention.defaults`), or `false` to keep every checkpoint. */
  readonly retention?: Retention.Policy | false
}

const open = (input: string | Options) =>
  Effect.flatMap(
    Effect.try({
      try: () => Connection.resolve(input),
      catch: (e) =>
        new Checkpoint.CheckpointError({ operation: "open", key: { study: "-", trial: 0 }, step: undefined, reason: Connection.maskUrl((e as Error).message) })
    }),
    (conn) => makePgCheckpoints(conn, typeof input === "string" ? {} : input)
  )

/**
 * Opens the store (no retention policy), closed with the scope: connects, and creates the tables
 * when they are missing.
 *
 * @example
 * import { Effect } from "effect"
 * import { PostgresCheckpoint } from "@tunekit/postgres"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const checkpoints = yield* PostgresCheckpoint.make("postgres://tunekit@db/studies")
 *   yield* checkpoints.save({ study: "s", trial: 0 }, 1, new Uint8Array([1, 2, 3]))
 * }))
 */
export const make = (input: string | Options): Effect.Effect<Checkpoint.CheckpointService, Checkpoint.CheckpointError, Scope.Scope> =>
  Effect.map(Effect.acquireRelease(open(input), (s) => s.close), (s) => s.service)

/**
 * The Checkpoint layer on PostgreSQL, with the default retention policy unless `retention` says
 * otherwise.
 *
 * @example
 * import { PostgresCheckpoint } from "@tunekit/postgres"
 * const layer = PostgresCheckpoint.layer({ url: "postgres://tunekit@db/studies", retention: { keepLast: 3, keepBest: 5 } })
 */
export const layer = (input: string | Options): Layer.Layer<Checkpoint.Checkpoint, Checkpoint.CheckpointError> =>
  Layer.scoped(
    Checkpoint.Checkpoint,
    Effect.map(make(input), (store) => {
      const policy = typeof input === "string" ? undefined : input.retention
      return policy === false ? store : Retention.make(store, policy ?? Retention.defaults)
    })
  )

/**
 * The checkpoint store a name gives, as the `tunekit` facade and `tunekit worker` read one: in
 * PostgreSQL for a `postgres://` URL (reachable from every worker), else files in that folder; with
 * the default retention policy unless `retention` says otherwise.
 *
 * @example
 * import { PostgresCheckpoint } from "@tunekit/postgres"
 * const shared = PostgresCheckpoint.layerNamed("postgres://tunekit@db/studies")
 * const local = PostgresCheckpoint.layerNamed("checkpoints", { retention: { keepLast: 1, keepBest: 3 } })
 */
export const layerNamed = (
  where: string,
  options: { readonly retention?: Retention.Policy | false } = {}
): Layer.Layer<Checkpoint.Checkpoint, Checkpoint.CheckpointError> =>
  Connection.isUrl(where)
    ? layer({ url: where, ...options })
    : Checkpoint.layer({ directory: where, ...options })
