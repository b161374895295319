// Which PostgreSQL client the storage should use (issue 13): node-postgres (pg) called directly,
// each call an Effect.tryPromise as in @tunekit/postgres, against @effect/sql-pg (which runs on pg
// too, through Effect's statement compiler, spans and a pool of its own, and sends every statement
// unnamed); and pg with named (prepared) statements, as the storage sends them. All run the storage's
// hot path, the same SQL text on the same tables: create a trial (the counter and the insert in
// one statement), report two metrics (upserts), finish it. Rounds alternate between the clients;
// the figure is the median time of one trial's statements.
//
//   npm run bench -- pg-client [--trials 300] [--rounds 7] [--url postgres://...]
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "@effect/sql"
import { Postgres } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Effect, ManagedRuntime, Redacted } from "effect"
import pg from "pg"
import { emit, median, parseArgs, table } from "./_util.js"

const CREATE = `WITH n AS (UPDATE tunekit.studies SET next_number = next_number + 1 WHERE id = $1 RETURNING next_number - 1 AS number)
  INSERT INTO tunekit.trials (study_id, number, state, params, distributions, user_attrs, system_attrs, started_at, worker, heartbeat, token)
  SELECT $1, n.number, 'Running', $2, $3, '{}', '{}', $4, 'bench:1', $4, $5 FROM n RETURNING *`
const REPORT = `WITH t AS (UPDATE tunekit.trials SET xid = pg_current_xact_id() WHERE id = $1 AND state = 'Running' RETURNING id)
  INSERT INTO tunekit.intermediate (trial_id, step, "values") SELECT id, $2, $3 FROM t
  ON CONFLICT (trial_id, step) DO UPDATE SET "values" = excluded."values" RETURNING trial_id`
const FINISH = `UPDATE tunekit.trials SET state = 'Complete', "values" = $2, finished_at = $3, xid = pg_current_xact_id()
  WHERE id = $1 AND state = 'Running' RETURNING *`

const params = JSON.stringify({ a: 0.25, b: 0.5, c: 17, d: 1 })
const dists = JSON.stringify({
  a: { _tag: "Float", low: -1, high: 1, log: false },
  b: { _tag: "Float", low: -1, high: 1, log: false },
  c: { _tag: "Int", low: 1, high: 100, log: false, step: 1 },
  d: { _tag: "Categorical", choices: ["x", "y", "z"] }
})

/** One client: runs `trials` trials' statements, giving the ms each trial took. */
type Runner = (studyId: number, trials: number) => Promise<Array<number>>

type Query = (text: string, values: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<{ id?: number | string }>, unknown>

const hotPath = (query: Query, studyId: number, trials: number) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    for (let i = 0; i < trials; i++) {
      const t0 = performance.now()
      const now = Date.now()
      const [row] = yield* query(CREATE, [studyId, params, dists, now, `${process.pid}-${now}-${i}-${Math.random()}`])
      const id = Number(row.id)
      for (let step = 0; step < 2; step++) yield* query(REPORT, [id, step, JSON.stringify({ loss: 1 / (step + 1) })])
      yield* query(FINISH, [id, "[0.5]", Date.now()])
      times.push(performance.now() - t0)
    }
    return times
  })

/** pg directly; `prepared`: each statement named, so parsed and planned once per connection. */
const direct = (url: string, prepared: boolean): { run: Runner; close: () => Promise<void> } => {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  const names = new Map([CREATE, REPORT, FINISH].map((text, i) => [text, `bench_${i}`]))
  const query: Query = (text, values) =>
    Effect.tryPromise(async () => (await pool.query({ text, values: values as Array<unknown>, ...(prepared ? { name: names.get(text) } : {}) })).rows)
  return { run: (studyId, trials) => Effect.runPromise(hotPath(query, studyId, trials)), close: () => pool.end() }
}

const effectSqlPg = (url: string): { run: Runner; close: () => Promise<void> } => {
  const layer = PgClient.layer({ url: Redacted.make(url), maxConnections: 10 })
  const program = (studyId: number, trials: number) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const query: Query = (text, values) => sql.unsafe<{ id?: number | string }>(text, values)
      return yield* hotPath(query, studyId, trials)
    })
  // One runtime (and pool) for all rounds, as a storage would keep.
  const runtime = ManagedRuntime.make(layer)
  return { run: (studyId, trials) => runtime.runPromise(program(studyId, trials)), close: () => runtime.dispose() }
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const trials = Number(opts.trials ?? 300)
  const rounds = Number(opts.rounds ?? 7)
  const server = typeof opts.url === "string" ? undefined : await Server.start()
  // Stopped early (Ctrl-C, a timeout), the throwaway server goes too.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void server?.stop().finally(() => process.exit(130)))
  const url = typeof opts.url === "string" ? opts.url : server!.url
  try {
    // The storage creates the tables and the study; the clients then write the same rows.
    const storage = await Effect.runPromise(Postgres.make(url))
    const study = await Effect.runPromise(storage.createStudy(`pg-client-${process.pid}`, { directions: ["minimize"] }))
    await Effect.runPromise(storage.close)
    const clients = { pg: direct(url, false), "@effect/sql-pg": effectSqlPg(url), "pg, prepared": direct(url, true) } as const
    const times: Record<keyof typeof clients, Array<number>> = { pg: [], "@effect/sql-pg": [], "pg, prepared": [] }
    // A warm-up round each, then alternating rounds.
    for (const c of Object.values(clients)) await c.run(study.id, 50)
    for (let r = 0; r < rounds; r++) {
      for (const [name, c] of Object.entries(clients) as Array<[keyof typeof clients, (typeof clients)[keyof typeof clients]]>) {
        times[name].push(...(await c.run(study.id, trials)))
      }
    }
    for (const c of Object.values(clients)) await c.close()
    const rows = (Object.keys(times) as Array<keyof typeof clients>).map((name) => {
      const ms = median(times[name])
      emit({ bench: "pg-client", client: name, trials: times[name].length, ms_per_trial: ms })
      return [name, times[name].length, ms, ms / median(times.pg)]
    })
    table("pg-client: the storage's hot path per trial (create, 2 reports, finish), median ms", ["client", "trials", "ms_per_trial", "vs_pg"], rows)
  } finally {
    await server?.stop()
  }
}
