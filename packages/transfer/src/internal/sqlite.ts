// The transfer database in SQLite, through better-sqlite3 (as core's storage): two tables, which
// may live in the same file as a study storage. Every call is one short transaction.
import Database from "better-sqlite3"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { studyFromRow, type StudyRow, type Task, taskFromRow, type TaskRow } from "./records.js"
import { TaskNotFound, TransferError } from "../Errors.js"
import type { TransferService } from "../Transfer.js"

const SCHEMA = `
CREATE TABLE IF NOT EXISTS transfer_tasks (
  name TEXT PRIMARY KEY,
  tags TEXT NOT NULL,
  meta_features TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transfer_studies (
  task TEXT NOT NULL REFERENCES transfer_tasks(name) ON DELETE CASCADE,
  study TEXT NOT NULL,
  direction TEXT NOT NULL,
  metric TEXT NOT NULL,
  space TEXT NOT NULL,
  trials TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (task, study)
);
`

export const makeSqlite = (file: string): Effect.Effect<TransferService & { readonly close: () => void }, TransferError> =>
  Effect.try({
    try: () => {
      if (file === "") throw new Error("the database path is empty")
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
      const db = new Database(file)
      db.pragma("journal_mode = WAL")
      db.pragma("synchronous = NORMAL")
      db.pragma("foreign_keys = ON")
      db.pragma("busy_timeout = 5000")
      db.exec(SCHEMA)
      return { db }
    },
    catch: (e) => new TransferError({ operation: "open", reason: `${file}: ${e instanceof Error ? e.message : String(e)}` })
  }).pipe(Effect.map(({ db }) => {
    const q = {
      upsertTask: db.prepare(
        `INSERT INTO transfer_tasks (name, tags, meta_features, created_at) VALUES (@name, @tags, @meta, @now)
         ON CONFLICT(name) DO UPDATE SET tags = COALESCE(@tagsGiven, tags), meta_features = COALESCE(@meta, meta_features)`
      ),
      getTask: db.prepare(`SELECT * FROM transfer_tasks WHERE name = ?`),
      tasks: db.prepare(`SELECT * FROM transfer_tasks ORDER BY name`),
      ensureTask: db.prepare(`INSERT OR IGNORE INTO transfer_tasks (name, tags, created_at) VALUES (?, '[]', ?)`),
      record: db.prepare(
        `INSERT OR REPLACE INTO transfer_studies (task, study, direction, metric, space, trials, recorded_at)
         VALUES (@task, @study, @direction, @metric, @space, @trials, @recordedAt)`
      ),
      studies: db.prepare(`SELECT * FROM transfer_studies WHERE task = ? ORDER BY recorded_at, study`),
      deleteTask: db.prepare(`DELETE FROM transfer_tasks WHERE name = ?`)
    }
    const run = <A>(operation: string, f: () => A) =>
      Effect.try({ try: f, catch: (e) => new TransferError({ operation, reason: e instanceof Error ? e.message : String(e) }) })
    const service: TransferService & { readonly close: () => void } = {
      label: `sqlite:${file}`,
      saveTask: (t) =>
        run("saveTask", () =>
          db.transaction(() => {
            q.upsertTask.run({
              name: t.name,
              tags: JSON.stringify(t.tags ?? []),
              tagsGiven: t.tags === undefined ? null : JSON.stringify(t.tags),
              meta: t.metaFeatures === undefined ? null : JSON.stringify(t.metaFeatures),
              now: Date.now()
            })
            return taskFromRow(q.getTask.get(t.name) as TaskRow)
          })()),
      getTask: (name) =>
        Effect.flatMap(run("getTask", () => q.getTask.get(name) as TaskRow | undefined), (r): Effect.Effect<Task, TransferError | TaskNotFound> =>
          r === undefined ? Effect.fail(new TaskNotFound({ task: name })) : run("getTask", () => taskFromRow(r))),
      tasks: run("tasks", () => (q.tasks.all() as Array<TaskRow>).map(taskFromRow)),
      record: (rec) =>
        run("record", () =>
          db.transaction(() => {
            q.ensureTask.run(rec.task, Date.now())
            q.record.run({
              task: rec.task,
              study: rec.study,
              direction: rec.direction,
              metric: rec.metric,
              space: JSON.stringify(rec.space),
              trials: JSON.stringify(rec.trials),
              recordedAt: rec.recordedAt
            })
          })()),
      studies: (task) => run("studies", () => (q.studies.all(task) as Array<StudyRow>).map(studyFromRow)),
      deleteTask: (name) =>
        Effect.flatMap(run("deleteTask", () => q.deleteTask.run(name).changes), (n) =>
          n === 0 ? Effect.fail(new TaskNotFound({ task: name })) : Effect.void),
      close: () => db.close()
    }
    return service
  }))
