import Database from "better-sqlite3"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { makeSqlite } from "../src/internal/sqliteStorage.js"

// The schema tunekit 0.1 wrote (schema version 1), frozen as it was released.
const V1 = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "sqlite-schema-v1.sql"), "utf8")

const dirs: Array<string> = []
const tmpFile = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-migrate-"))
  dirs.push(dir)
  return path.join(dir, "old.db")
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const x = JSON.stringify({ _tag: "Float", low: 0, high: 1, log: false })

/** A file as tunekit 0.1 left it: a study with a finished, a running and an enqueued trial. */
const writeV1 = (file: string) => {
  const db = new Database(file)
  db.pragma("journal_mode = WAL")
  db.exec(V1)
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '1')").run()
  db.prepare(`INSERT INTO studies (id, name, directions, metrics, created_at, seq) VALUES (1, 'old', '["minimize"]', '["loss"]', 1000, 3)`).run()
  db.prepare(`INSERT INTO study_params (study_id, name, distribution) VALUES (1, 'x', ?)`).run(x)
  const trial = db.prepare(
    `INSERT INTO trials (id, study_id, number, state, params, distributions, "values", user_attrs, system_attrs, started_at,
       finished_at, worker, reason, heartbeat, paused, seq) VALUES (?, 1, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, NULL, ?, 0, ?)`
  )
  trial.run(1, 0, "Complete", '{"x":0.25}', JSON.stringify({ x: JSON.parse(x) }), "[0.5]", '{"claim":"grid:0"}', 1000, 2000, "h:1", 1500, 1)
  trial.run(2, 1, "Running", '{"x":0.75}', JSON.stringify({ x: JSON.parse(x) }), null, "{}", 2000, null, "h:1", 2500, 2)
  trial.run(3, 2, "Waiting", '{"x":0.5}', JSON.stringify({ x: JSON.parse(x) }), null, "{}", null, null, null, null, 3)
  db.prepare(`INSERT INTO intermediate (trial_id, step, "values") VALUES (1, 1, '{"loss":0.6}'), (1, 2, '{"loss":0.5}')`).run()
  db.prepare(`INSERT INTO claims (study_id, key) VALUES (1, 'grid:0')`).run()
  db.close()
}

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

describe("SQLite schema migrations", () => {
  it("migrates a file written by tunekit 0.1 (version 1), keeping its trials", async () => {
    const file = tmpFile()
    writeV1(file)
    const s = await run(makeSqlite(file))
    const study = await run(s.getStudy("old"))
    expect(study.metrics).toEqual(["loss"])
    const trials = await run(s.getTrials(study.id))
    expect(trials.map((t) => [t.number, t.state, t.params.x])).toEqual([[0, "Complete", 0.25], [1, "Running", 0.75], [2, "Waiting", 0.5]])
    expect(trials[0].values).toEqual([0.5])
    expect(trials[0].intermediate).toEqual([{ step: 1, values: { loss: 0.6 } }, { step: 2, values: { loss: 0.5 } }])
    expect(trials[0].systemAttrs.claim).toBe("grid:0")
    expect((await run(s.heartbeats(study.id))).get(2)).toBe(2500)
    // It goes on as a current file: the enqueued trial is claimed, new trials follow the old ones.
    const claimed = await run(s.claimWaiting(study.id, "h:2"))
    expect(Option.map(claimed, (t) => t.number)).toEqual(Option.some(2))
    expect((await run(s.createTrial(study.id, { state: "Running" }))).number).toBe(3)
    expect(await run(s.claim(study.id, "grid:0"))).toBe(false)
    await run(s.close)
    const db = new Database(file, { readonly: true })
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: "2" })
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trials'").all() as Array<{ name: string }>).map((r) => r.name)
    expect(indexes).toContain("trials_waiting")
    expect(indexes).toContain("trials_running")
    expect(indexes).not.toContain("trials_by_state")
    db.close()
  })

  it("reads a version-1 file read-only without changing it", async () => {
    const file = tmpFile()
    writeV1(file)
    const s = await run(makeSqlite(file, { readonly: true }))
    expect((await run(s.getTrials(1))).length).toBe(3)
    await run(s.close)
    const db = new Database(file, { readonly: true })
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: "1" })
    db.close()
  })

  it("refuses a file written by a newer tunekit with a StorageError naming both versions", async () => {
    const file = tmpFile()
    await run(Effect.flatMap(makeSqlite(file), (s) => s.close))
    const db = new Database(file)
    db.prepare("UPDATE meta SET value = '9' WHERE key = 'schema_version'").run()
    db.close()
    for (const options of [{}, { readonly: true }]) {
      const e = await run(Effect.flip(makeSqlite(file, options)))
      expect(e._tag).toBe("StorageError")
      expect(e.message).toContain(file)
      expect(e.message).toMatch(/schema version 9, written by a newer tunekit/)
      expect(e.message).toMatch(/versions up to 2\b/)
    }
  })

  it("creates a new file at the current version", async () => {
    const file = tmpFile()
    await run(Effect.flatMap(makeSqlite(file), (s) => s.close))
    const db = new Database(file, { readonly: true })
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: "2" })
    db.close()
  })
})
