/**
 * A study's storage on PostgreSQL: the single source of truth for workers on many machines.
 * Trials are claimed with `FOR UPDATE SKIP LOCKED`, numbered without duplicates, and read back by
 * what changed since a process last looked. A server restart is ridden out: calls retry with
 * backoff on fresh connections, and a retried write is never applied twice.
 *
 * @since 0.1.0
 */
import { Storage, StorageError } from "@tunekit/core"
import { Effect, Layer } from "effect"
import * as Connection from "./internal/connection.js"
import { makePostgres } from "./internal/pgStorage.js"

/** Where to connect, and how. */
export interface Options extends Connection.ConnectionOptions {
  /**
   * The PostgreSQL schema (namespace) holding tunekit's tables, created on first use
   * (default "tunekit"). Several schemas keep independent stores in one database.
   */
  readonly schema?: string
  /** Connections in this process's pool (default 10). */
  readonly poolSize?: number
  /**
   * How long a call keeps retrying while the server is unreachable, in ms (default 60 s): a server
   * restart within it goes unnoticed by the study.
   */
  readonly retryMs?: number
}

const split = (input: string | Options): { readonly conn: Connection.Connection; readonly options: Options } => ({
  conn: Connection.resolve(input),
  options: typeof input === "string" ? {} : input
})

/**
 * Opens a PostgreSQL storage: connects, creates or migrates the tables, and gives the service
 * (close it with its `close`). The password comes from the URL, `passwordFile`, `PGPASSWORD`, or a
 * passfile (`?passfile=` or `PGPASSFILE`, in `.pgpass` format), and is never shown: the `label`
 * and every error carry the URL with the password masked.
 *
 * @example
 * import { Postgres } from "@tunekit/postgres"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const storage = yield* Postgres.make("postgres://tunekit@db.example:5432/studies")
 *   const studies = yield* storage.listStudies()
 *   yield* storage.close
 *   return studies
 * })
 */
export const make = (input: string | Options): Effect.Effect<Storage.StorageService, StorageError> =>
  Effect.flatMap(
    Effect.try({
      try: () => split(input),
      catch: (e) => new StorageError({ operation: "open", reason: Connection.maskUrl((e as Error).message) })
    }),
    ({ conn, options }) => makePostgres(conn, options)
  )

/**
 * The Storage layer on PostgreSQL, closed with its scope.
 *
 * @example
 * import { Postgres } from "@tunekit/postgres"
 * import { Study } from "@tunekit/core"
 * import { Effect } from "effect"
 * const run = Study.optimize({ study: "s", space, objective, trials: 100 }).pipe(
 *   Effect.provide(Postgres.layer(process.env.DATABASE_URL ?? "postgres://localhost/tunekit"))
 * )
 */
export const layer = (input: string | Options): Layer.Layer<Storage.Storage, StorageError> =>
  Layer.scoped(Storage.Storage, Effect.acquireRelease(make(input), (s) => s.close))

/**
 * Whether a storage name is a PostgreSQL connection string (`postgres://` or `postgresql://`),
 * as the CLI, sweep files and the facade tell a database from an SQLite file.
 *
 * @example
 * import { Postgres } from "@tunekit/postgres"
 * Postgres.isUrl("postgresql://me@db/studies") // true
 * Postgres.isUrl("tunekit.db") // false
 */
export const isUrl: (name: string) => boolean = Connection.isUrl

/**
 * The storage a name gives, as the CLI, sweep files and the `tunekit` facade read one: a
 * PostgreSQL database for a `postgres://` URL, else an SQLite file (`readonly` applies to files; a
 * database's rights are its role's).
 *
 * @example
 * import { Postgres } from "@tunekit/postgres"
 * const shared = Postgres.layerNamed("postgres://tunekit@db/studies")
 * const local = Postgres.layerNamed("tunekit.db")
 */
export const layerNamed = (name: string, options: { readonly readonly?: boolean } = {}): Layer.Layer<Storage.Storage, StorageError> =>
  isUrl(name) ? layer(name) : Storage.layerSqlite(name, options)

/**
 * The text with the password of every PostgreSQL URL in it masked (`postgres://me:***@db/s`).
 *
 * @example
 * import { Postgres } from "@tunekit/postgres"
 * Postgres.maskUrl("postgres://me:secret@db/s") // "postgres://me:***@db/s"
 */
export const maskUrl: (text: string) => string = Connection.maskUrl
