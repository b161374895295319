/**
 * The hyperparameter-transfer database (`Transfer` of @tunekit/transfer) in PostgreSQL: the tasks
 * and the studies tuned on them, in the database (and schema, default `tunekit`) that holds the
 * studies, so that every machine of a team warm-starts from the same history. The tables
 * (`transfer_tasks`, `transfer_studies`) are created on first use and versioned apart from the
 * storage's (a database written by a newer tunekit is refused, naming both versions). It passes
 * the Transfer conformance suite. The password is never shown: the label and every error carry
 * the URL with the password masked (`Postgres.maskUrl`).
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { Study } from "@tunekit/core"
 * import { Postgres, PostgresTransfer } from "@tunekit/postgres"
 * import { Transfer } from "@tunekit/transfer"
 *
 * const url = "postgres://tunekit@db.example:5432/studies"
 * const services = Layer.merge(Postgres.layer(url), PostgresTransfer.layer(url))
 * // Study.optimize({ ... }).pipe(Effect.provide(Transfer.recorder({ task: "digits_mlp" })), Effect.provide(services))
 *
 * @since 0.2.0
 */
import { Effect, Layer, type Scope } from "effect"
import { Transfer, TransferError } from "@tunekit/transfer"
import * as Connection from "./internal/connection.js"
import { makePgTransfer, type PgTransferOptions } from "./internal/pgTransfer.js"

/** Where to connect, and how. */
export interface Options extends Connection.ConnectionOptions, PgTransferOptions {}

/**
 * Opens the transfer database, closed with the scope: connects, and creates or migrates the
 * tables.
 *
 * @example
 * import { Effect } from "effect"
 * import { PostgresTransfer } from "@tunekit/postgres"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const db = yield* PostgresTransfer.make("postgres://tunekit@db/studies")
 *   return yield* db.tasks
 * }))
 */
export const make = (input: string | Options): Effect.Effect<Transfer.TransferService, TransferError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.flatMap(
        Effect.try({
          try: () => Connection.resolve(input),
          catch: (e) => new TransferError({ operation: "open", reason: Connection.maskUrl((e as Error).message) })
        }),
        (conn) => makePgTransfer(conn, typeof input === "string" ? {} : input)
      ),
      (db) => db.close
    ),
    ({ close: _, ...service }) => service
  )

/**
 * The Transfer layer on PostgreSQL.
 *
 * @example
 * import { PostgresTransfer } from "@tunekit/postgres"
 * const layer = PostgresTransfer.layer({ url: "postgres://tunekit@db/studies", schema: "team_a" })
 */
export const layer = (input: string | Options): Layer.Layer<Transfer.Transfer, TransferError> => Layer.scoped(Transfer.Transfer, make(input))

/**
 * The transfer database a name gives, as the CLI reads one: in PostgreSQL for a `postgres://` URL,
 * else in that SQLite file (which may be the study storage's).
 *
 * @example
 * import { PostgresTransfer } from "@tunekit/postgres"
 * const shared = PostgresTransfer.layerNamed("postgres://tunekit@db/studies")
 * const local = PostgresTransfer.layerNamed("tunekit.db")
 */
export const layerNamed = (where: string): Layer.Layer<Transfer.Transfer, TransferError> =>
  Connection.isUrl(where) ? layer(where) : Transfer.layerSqlite(where)
