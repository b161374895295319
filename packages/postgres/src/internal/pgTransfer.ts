// The hyperparameter-transfer database (@tunekit/transfer's Transfer service) in PostgreSQL,
// through node-postgres (pg) with a small pool of its own.
//
// Two tables in the storage's schema (default `tunekit`), versioned apart from the storage's
// tables (key `transfer_schema_version` of the schema's `meta` table, migrated under the same
// advisory lock): `transfer_tasks` and `transfer_studies`, the columns of the SQLite layer's, JSON
// kept as text and decoded through the transfer package's Schemas (a corrupt row is an error
// naming the field). Every call is one statement; a record creates its task in the same statement.
// Calls retry on a fresh connection while the server is unreachable: saving a task and recording a
// study are upserts, so a retried write lands once.
import { Effect } from "effect"
import pg from "pg"
import { TaskNotFound, Transfer, TransferError } from "@tunekit/transfer"
import * as pools from "./connection.js"
import type { Connection } from "./connection.js"
import { retrying } from "./retry.js"
import { migrate, type MigrationSet, SchemaTooNew } from "./schema.js"

export interface PgTransferOptions {
  /** The PostgreSQL schema holding the tables (default "tunekit", the storage's). */
  readonly schema?: string
  /** Connections in the pool (default 2: the database is read when a study starts and written when it ends). */
  readonly poolSize?: number
  /** How long a call keeps retrying while the server is unreachable, in ms (default 60 s). */
  readonly retryMs?: number
}

export const TRANSFER: MigrationSet = {
  key: "transfer_schema_version",
  what: "transfer schema",
  migrations: [
    {
      version: 1,
      sql: (s) => `
CREATE TABLE ${s}.transfer_tasks (
  name text PRIMARY KEY, tags text NOT NULL, meta_features text, created_at bigint NOT NULL);
CREATE TABLE ${s}.transfer_studies (
  task text NOT NULL REFERENCES ${s}.transfer_tasks(name) ON DELETE CASCADE, study text NOT NULL,
  direction text NOT NULL, metric text NOT NULL, space text NOT NULL, trials text NOT NULL,
  recorded_at bigint NOT NULL, PRIMARY KEY (task, study));
`
    }
  ]
}

export const makePgTransfer = (
  conn: Connection,
  options: PgTransferOptions = {}
): Effect.Effect<Transfer.TransferService & { readonly close: Effect.Effect<void> }, TransferError> =>
  Effect.gen(function*() {
    const schemaName = options.schema ?? "tunekit"
    const s = pg.escapeIdentifier(schemaName)
    const retryMs = options.retryMs ?? 60_000
    const pool = pools.pool(conn, { max: options.poolSize ?? 2, name: "tunekit-transfer" })
    const error = (operation: string, e: unknown) =>
      e instanceof SchemaTooNew
        ? new TransferError({ operation, reason: e.message })
        : new TransferError({ operation, reason: `${conn.label}: ${conn.mask(e instanceof Error ? e.message : String(e))}` })
    /** Runs a call, retried on a fresh connection while the connection fails; other failures are TransferError. */
    const call = <A>(operation: string, body: () => Promise<A>, budget = retryMs) =>
      Effect.mapError(retrying(body, budget), (e) => error(operation, e))
    const query = (text: string, values: ReadonlyArray<unknown>) => pool.query(text, [...values])

    yield* call("open", async () => {
      const client = await pool.connect()
      try {
        await migrate(client, s, `the database ${conn.label}`, TRANSFER)
      } finally {
        client.release()
      }
    }, Math.min(retryMs, 10_000)).pipe(Effect.tapError(() => Effect.promise(() => pool.end().catch(() => undefined))))

    const tasks = `${s}.transfer_tasks`
    const studies = `${s}.transfer_studies`
    const service: Transfer.TransferService & { readonly close: Effect.Effect<void> } = {
      label: `${conn.label} (schema ${schemaName})`,
      saveTask: (t) =>
        call("saveTask", async () => {
          const r = await query(
            `INSERT INTO ${tasks} AS t (name, tags, meta_features, created_at) VALUES ($1, COALESCE($2, '[]'), $3, $4)
             ON CONFLICT (name) DO UPDATE SET tags = COALESCE($2, t.tags), meta_features = COALESCE($3, t.meta_features)
             RETURNING *`,
            [t.name, t.tags === undefined ? null : JSON.stringify(t.tags), t.metaFeatures === undefined ? null : JSON.stringify(t.metaFeatures), Date.now()]
          )
          return Transfer.taskFromRow(r.rows[0])
        }),
      getTask: (name) =>
        Effect.flatMap(
          call("getTask", async () => {
            const r = await query(`SELECT * FROM ${tasks} WHERE name = $1`, [name])
            return r.rows.length === 0 ? undefined : Transfer.taskFromRow(r.rows[0])
          }),
          (t) => (t === undefined ? Effect.fail(new TaskNotFound({ task: name })) : Effect.succeed(t))
        ),
      // Names in code-point order (COLLATE "C"), as the other layers sort them, whatever the database's locale.
      tasks: call("tasks", async () => (await query(`SELECT * FROM ${tasks} ORDER BY name COLLATE "C"`, [])).rows.map(Transfer.taskFromRow)),
      record: (rec) =>
        call("record", async () => {
          // The task is created in the same statement when missing; the foreign key is checked at
          // the statement's end, when the CTE's row is there.
          await query(
            `WITH task AS (INSERT INTO ${tasks} (name, tags, created_at) VALUES ($1, '[]', $8) ON CONFLICT (name) DO NOTHING)
             INSERT INTO ${studies} (task, study, direction, metric, space, trials, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (task, study) DO UPDATE SET direction = excluded.direction, metric = excluded.metric, space = excluded.space,
               trials = excluded.trials, recorded_at = excluded.recorded_at`,
            [rec.task, rec.study, rec.direction, rec.metric, JSON.stringify(rec.space), JSON.stringify(rec.trials), rec.recordedAt, Date.now()]
          )
        }),
      studies: (task) =>
        call("studies", async () =>
          (await query(`SELECT * FROM ${studies} WHERE task = $1 ORDER BY recorded_at, study COLLATE "C"`, [task])).rows.map(Transfer.studyFromRow)),
      deleteTask: (name) =>
        Effect.flatMap(
          call("deleteTask", async () => (await query(`DELETE FROM ${tasks} WHERE name = $1`, [name])).rowCount ?? 0),
          (n) => (n === 0 ? Effect.fail(new TaskNotFound({ task: name })) : Effect.void)
        ),
      close: Effect.promise(() => pool.end().catch(() => undefined))
    }
    return service
  })
