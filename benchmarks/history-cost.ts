// The storage's cost per trial as a study's history grows (issue 13; Optuna's RDB storage slows
// about 10x between a fresh study and 80,000 trials, optuna#3053). For each storage and history
// size, the history is filled in bulk (copies of one real trial, straight into the tables), then
// trials run through Study.optimize with the random sampler (which reads no history, so only the
// storage is measured): each trial is created, reports two metrics and is finished. The figure is
// the median time between consecutive finished trials, so that the one-off cost of opening the
// study (reading its history once) is left out.
//
//   npm run bench -- history-cost [--sizes 1000,10000,100000] [--trials 200] [--storages sqlite,postgres] [--url postgres://...]
//
// Without --url, a throwaway PostgreSQL server is started (fsync off: the figures are the
// storage's own cost, not the disk's).
import Database from "better-sqlite3"
import { Rng, Sampler, Space, Storage, Study } from "@tunekit/core"
import { Postgres } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { of } from "rxjs"
import { emit, median, parseArgs, table } from "./_util.js"

const space = Space.struct({ a: Space.float(-1, 1), b: Space.float(-1, 1), c: Space.int(1, 100), d: Space.categorical(["x", "y", "z"] as const) })
type Config = Space.Type<typeof space>
const objective = (c: Config) => {
  const loss = c.a * c.a + c.b * c.b + c.c / 100
  return of({ step: 0, values: { loss: loss + 1 } }, { step: 1, values: { loss } })
}
const STUDY = "history-cost"

/** Runs `trials` trials on the storage layer; the milliseconds between consecutive finishes. */
const timeTrials = async (layer: Layer.Layer<Storage.Storage, unknown>, trials: number): Promise<Array<number>> => {
  const finished: Array<number> = []
  const program = Study.optimize({
    study: STUDY,
    space,
    objective,
    metric: "loss",
    direction: "minimize",
    trials,
    callbacks: [() => void finished.push(performance.now())]
  })
  await Effect.runPromise(
    program.pipe(Effect.provide(Layer.mergeAll(layer, Sampler.layerRandom, Rng.layer({ seed: 1 })))) as Effect.Effect<unknown, unknown>
  )
  return finished.slice(1).map((t, i) => t - finished[i])
}

interface Backend {
  readonly name: "sqlite" | "postgres"
  /**
   * A fresh, empty store: its layer, how to fill its history (copies of trial 0 with its metrics,
   * each with a value of its own, until the study holds `size` trials), and how to dispose of it.
   */
  readonly fresh: () => Promise<{ layer: Layer.Layer<Storage.Storage, unknown>; fill: (size: number) => Promise<void>; drop: () => Promise<void> }>
}

const sqlite: Backend = {
  name: "sqlite",
  fresh: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-history-"))
    const file = path.join(dir, "history.db")
    return {
      layer: Storage.layerSqlite(file),
      fill: async (size) => {
        const db = new Database(file)
        db.transaction(() => {
          const { id: studyId, seq } = db.prepare("SELECT id, seq FROM studies WHERE name = ?").get(STUDY) as { id: number; seq: number }
          db.prepare(
            `WITH RECURSIVE g(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM g WHERE k < ?)
             INSERT INTO trials (study_id, number, state, params, distributions, "values", user_attrs, system_attrs, started_at,
               finished_at, worker, reason, heartbeat, paused, seq)
             SELECT study_id, number + k, state, params, distributions, '[' || ((abs(random()) % 1000000) / 1e6) || ']', user_attrs,
               system_attrs, started_at, finished_at, worker, reason, heartbeat, paused, ? + k FROM g, trials WHERE study_id = ? AND number = 0`
          ).run(size - 1, seq, studyId)
          db.prepare(
            `INSERT INTO intermediate (trial_id, step, "values")
             SELECT t.id, i.step, i."values" FROM trials t, intermediate i, trials t0
             WHERE t.study_id = ? AND t.number > 0 AND t0.study_id = t.study_id AND t0.number = 0 AND i.trial_id = t0.id`
          ).run(studyId)
          db.prepare("UPDATE studies SET seq = seq + ? WHERE id = ?").run(size, studyId)
        })()
        db.exec("ANALYZE")
        db.close()
      },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

const postgres = (server: { readonly createDatabase: (name: string) => Promise<string> }): Backend => {
  let n = 0
  return {
    name: "postgres",
    fresh: async () => {
      const url = await server.createDatabase(`history_cost_${process.pid}_${n++}`)
      return {
        layer: Postgres.layer(url),
        fill: async (size) => {
          const client = new pg.Client({ connectionString: url })
          await client.connect()
          await client.query("BEGIN")
          const { rows: [{ id: studyId }] } = await client.query("SELECT id FROM tunekit.studies WHERE name = $1", [STUDY])
          await client.query(
            `INSERT INTO tunekit.trials (study_id, number, state, params, distributions, "values", user_attrs, system_attrs,
               started_at, finished_at, worker, reason, heartbeat, paused)
             SELECT study_id, number + k, state, params, distributions, '[' || random()::text || ']', user_attrs, system_attrs,
               started_at, finished_at, worker, reason, heartbeat, paused
             FROM generate_series(1, $1::int - 1) AS k, tunekit.trials WHERE study_id = $2 AND number = 0`,
            [size, studyId]
          )
          await client.query(
            `INSERT INTO tunekit.intermediate (trial_id, step, "values")
             SELECT t.id, i.step, i."values" FROM tunekit.trials t, tunekit.intermediate i, tunekit.trials t0
             WHERE t.study_id = $1 AND t.number > 0 AND t0.study_id = t.study_id AND t0.number = 0 AND i.trial_id = t0.id`,
            [studyId]
          )
          await client.query("UPDATE tunekit.studies SET next_number = $1 WHERE id = $2", [size, studyId])
          await client.query("COMMIT")
          await client.query("VACUUM ANALYZE tunekit.trials")
          await client.query("VACUUM ANALYZE tunekit.intermediate")
          await client.end()
        },
        drop: async () => undefined
      }
    }
  }
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const sizes = String(opts.sizes ?? "1000,10000,100000").split(",").map(Number)
  const trials = Number(opts.trials ?? 200)
  const storages = String(opts.storages ?? "sqlite,postgres").split(",")
  const server = storages.includes("postgres") && typeof opts.url !== "string" ? await Server.start() : undefined
  // Stopped early (Ctrl-C, a timeout), the throwaway server goes too.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void server?.stop().finally(() => process.exit(130)))
  const backends: Array<Backend> = []
  if (storages.includes("sqlite")) backends.push(sqlite)
  if (storages.includes("postgres")) {
    const url = opts.url
    backends.push(postgres(server ?? {
      createDatabase: async (name) => {
        const c = new pg.Client({ connectionString: String(url) })
        await c.connect()
        await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
        await c.end()
        const u = new URL(String(url))
        u.pathname = `/${name}`
        return u.href
      }
    }))
  }
  const rows: Array<Array<unknown>> = []
  try {
    for (const backend of backends) {
      // A first, unmeasured study, so that the first size does not pay for the process warming up.
      const warm = await backend.fresh()
      await timeTrials(warm.layer, 200)
      await warm.drop()
      const costs: Array<number> = []
      for (const size of sizes) {
        const store = await backend.fresh()
        // One real trial to copy, then the history in bulk, then the timed trials (after a few
        // untimed ones, so that the JIT and the connections are warm).
        await timeTrials(store.layer, 1)
        await store.fill(size)
        await timeTrials(store.layer, 20)
        const ms = median(await timeTrials(store.layer, trials))
        await store.drop()
        costs.push(ms)
        emit({ bench: "history-cost", storage: backend.name, history: size, ms_per_trial: ms })
        rows.push([backend.name, size, trials, ms, ms / costs[0]])
      }
    }
  } finally {
    await server?.stop()
  }
  table("history-cost (median ms between finished trials)", ["storage", "history", "trials", "ms_per_trial", "vs_first"], rows)
}
