// Storage in an SQLite file through better-sqlite3 (synchronous, so each call is one short
// transaction). WAL with synchronous=NORMAL: a committed trial survives the process being killed.
// Each study keeps a change counter (`seq`); trials carry the seq of their last change, so that a
// process refreshes its cached history by reading only what changed since it last looked.
import Database from "better-sqlite3"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type * as Distribution from "../Distribution.js"
import { ClaimTaken, type InvalidSpace, StorageError, type StudyMismatch, StudyNotFound, TrialStateError } from "../Errors.js"
import type { StorageService, StudyInfo, TrialInit } from "../Storage.js"
import type { FrozenTrial, Json, Metric } from "../Trial.js"
import { checkCompatible, checkDirections, fewStates, Handed, notRunning, sampledFor } from "./storageRules.js"
import { HistoryCache, isDomainError, read, type StudyRow, studyAt, toStudy, toTrial, trialAt, type TrialRow as Row } from "./storedRows.js"

export interface SqliteOptions {
  /** How long a writer waits for another process's lock, in ms (default 30 s). */
  readonly busyTimeoutMs?: number
  /**
   * Open the file read-only (it must exist): writes fail, nothing is created. Works on a file
   * and folder the user cannot write (reading commands, a shared results file).
   */
  readonly readonly?: boolean
}

// The schema as an ordered list of migrations: MIGRATIONS[i] takes a file from version i to i + 1,
// in one transaction. A released step is never edited; a change is a new step at the end.
const MIGRATIONS: ReadonlyArray<string> = [
  // 1: tunekit 0.1's tables. Each study keeps a change counter (`seq`), each trial the seq of its last change.
  `
CREATE TABLE IF NOT EXISTS studies (
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, directions TEXT NOT NULL, metrics TEXT NOT NULL,
  user_attrs TEXT NOT NULL DEFAULT '{}', system_attrs TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL, seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS study_params (
  study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE, name TEXT NOT NULL,
  distribution TEXT NOT NULL, PRIMARY KEY (study_id, name));
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  number INTEGER NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL, distributions TEXT NOT NULL,
  "values" TEXT, user_attrs TEXT NOT NULL, system_attrs TEXT NOT NULL, started_at INTEGER,
  finished_at INTEGER, worker TEXT, reason TEXT, heartbeat INTEGER, paused INTEGER NOT NULL DEFAULT 0,
  seq INTEGER NOT NULL, UNIQUE (study_id, number));
CREATE INDEX IF NOT EXISTS trials_by_seq ON trials (study_id, seq);
CREATE INDEX IF NOT EXISTS trials_by_state ON trials (study_id, state, paused, number);
CREATE TABLE IF NOT EXISTS intermediate (
  trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE, step REAL NOT NULL,
  "values" TEXT NOT NULL, PRIMARY KEY (trial_id, step));
CREATE TABLE IF NOT EXISTS claims (
  study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE, key TEXT NOT NULL,
  PRIMARY KEY (study_id, key));
`,
  // 2: the trials waiting or running are found through partial indexes that hold only those: a
  // finished trial leaves them, so they stay small however long the history grows, where the
  // index on every trial's state took a delete and an insert in a tree of the whole history.
  `
DROP INDEX IF EXISTS trials_by_state;
CREATE INDEX trials_waiting ON trials (study_id, number) WHERE state = 'Waiting';
CREATE INDEX trials_running ON trials (study_id) WHERE state = 'Running';
`
]

/** The schema version this tunekit writes. */
const SCHEMA_VERSION = MIGRATIONS.length

const versionOf = (db: Database.Database): number => {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined
  return row === undefined ? 0 : Number(row.value)
}

const refuseNewer = (found: number) => {
  if (found > SCHEMA_VERSION) {
    throw new Error(
      `the database has schema version ${found}, written by a newer tunekit; this tunekit reads versions up to ${SCHEMA_VERSION}: upgrade tunekit to open it`
    )
  }
}

/** Brings a writable database to SCHEMA_VERSION (or refuses a newer one). */
const migrate = (db: Database.Database): void => {
  db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
  const seen = versionOf(db)
  refuseNewer(seen)
  if (seen === SCHEMA_VERSION) return
  // Under the write lock, so that processes opening the file at once migrate it once.
  db.transaction(() => {
    const found = versionOf(db)
    refuseNewer(found)
    for (let v = found; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v])
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION))
  }).immediate()
}

type TrialRow = Row & { seq: number }

// A WAL database is read through its -shm file, which SQLite creates beside it; in a folder the
// user cannot write, a read-only open fails for want of it. The file is then read as a snapshot in
// memory, marked as a rollback-journal database (header bytes 18-19), which is the same data as
// long as no write-ahead log is pending: a writer that closes checkpoints it and deletes it.
const openReadonly = (file: string, busyTimeoutMs: number): Database.Database => {
  if (!fs.existsSync(file)) throw new Error("the file does not exist")
  let db: Database.Database | undefined
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs })
    db.prepare("SELECT count(*) FROM sqlite_master").get()
  } catch (e) {
    db?.close()
    const code = (e as { code?: string }).code
    if (code !== "SQLITE_READONLY_DIRECTORY" && code !== "SQLITE_CANTOPEN") throw e
    const wal = `${file}-wal`
    if (fs.existsSync(wal) && fs.statSync(wal).size > 0) {
      throw new Error(`its write-ahead log ${wal} is pending and cannot be read in a folder that is not writable`)
    }
    const bytes = fs.readFileSync(file)
    if (bytes[18] === 2 && bytes[19] === 2) bytes[18] = bytes[19] = 1
    db = new Database(bytes, { readonly: true })
  }
  try {
    // An older file is read as it is (reads need no migration step so far); a newer one is refused.
    refuseNewer(versionOf(db))
    return db
  } catch (e) {
    db.close()
    throw /no such table/.test((e as Error).message) ? new Error("it is not a tunekit database (no tunekit tables)") : e
  }
}

const open = (file: string, busyTimeoutMs: number): Database.Database => {
  if (file !== ":memory:") {
    const dir = path.dirname(path.resolve(file))
    if (!fs.existsSync(dir)) throw new Error(`the folder ${dir} does not exist`)
  }
  const db = new Database(file, { timeout: busyTimeoutMs })
  try {
    db.pragma("journal_mode = WAL")
    db.pragma("synchronous = NORMAL")
    db.pragma("foreign_keys = ON")
    migrate(db)
    return db
  } catch (e) {
    db.close()
    throw e
  }
}

export const makeSqlite = (file: string, options: SqliteOptions = {}): Effect.Effect<StorageService, StorageError> =>
  // better-sqlite3 reads "" as a temporary database, gone when closed: never what a user meant.
  file.trim() === ""
    ? Effect.fail(new StorageError({ operation: "open", reason: `the SQLite file name is empty; give a path (or ":memory:" for a database in this process only)` }))
    // A PostgreSQL URL would otherwise open an SQLite file of that name. (The core has no
    // PostgreSQL client; the URL's password is not repeated.)
    : /^postgres(ql)?:\/\//i.test(file.trim())
    ? Effect.fail(new StorageError({
      operation: "open",
      reason: "a postgres:// URL names a PostgreSQL database, not an SQLite file: open it with Postgres.layer(url) from @tunekit/postgres " +
        "(the tunekit package's `storage` option and the CLI's --storage take URLs as they are)"
    }))
    : Effect.try({
      try: () => build(file, (options.readonly ? openReadonly : open)(file, options.busyTimeoutMs ?? 30_000)),
      catch: (e) => new StorageError({ operation: "open", reason: `cannot open SQLite database ${file}: ${(e as Error).message}`, cause: e })
    })

const build = (file: string, db: Database.Database): StorageService => {
  const q = {
    studyByName: db.prepare("SELECT * FROM studies WHERE name = ?"),
    studies: db.prepare("SELECT * FROM studies ORDER BY id"),
    insertStudy: db.prepare(
      "INSERT INTO studies (name, directions, metrics, created_at) VALUES (?, ?, ?, ?) RETURNING *"
    ),
    deleteStudy: db.prepare("DELETE FROM studies WHERE id = ?"),
    bump: db.prepare("UPDATE studies SET seq = seq + 1 WHERE id = ? RETURNING seq"),
    nextNumber: db.prepare("SELECT COALESCE(MAX(number) + 1, 0) AS n FROM trials WHERE study_id = ?"),
    insertTrial: db.prepare(
      `INSERT INTO trials (study_id, number, state, params, distributions, user_attrs, system_attrs, started_at, worker, heartbeat, seq)
       VALUES (@studyId, @number, @state, @params, @distributions, @userAttrs, @systemAttrs, @startedAt, @worker, @heartbeat, @seq) RETURNING *`
    ),
    claim: db.prepare("INSERT OR IGNORE INTO claims (study_id, key) VALUES (?, ?)"),
    studyParams: db.prepare("SELECT name, distribution FROM study_params WHERE study_id = ?"),
    insertParam: db.prepare("INSERT OR IGNORE INTO study_params (study_id, name, distribution) VALUES (?, ?, ?)"),
    trial: db.prepare("SELECT * FROM trials WHERE id = ?"),
    oldestWaiting: db.prepare(
      "SELECT id FROM trials WHERE study_id = ? AND state = 'Waiting' AND paused = 0 ORDER BY number LIMIT 1"
    ),
    start: db.prepare(
      "UPDATE trials SET state = 'Running', worker = ?, started_at = COALESCE(started_at, ?), heartbeat = ?, paused = 0, seq = ? WHERE id = ? AND state = 'Waiting' RETURNING *"
    ),
    setParams: db.prepare("UPDATE trials SET params = ?, distributions = ?, seq = ? WHERE id = ?"),
    report: db.prepare('INSERT OR REPLACE INTO intermediate (trial_id, step, "values") VALUES (?, ?, ?)'),
    touch: db.prepare("UPDATE trials SET seq = ? WHERE id = ?"),
    setAttrs: db.prepare("UPDATE trials SET user_attrs = ?, system_attrs = ?, seq = ? WHERE id = ?"),
    pause: db.prepare("UPDATE trials SET state = 'Waiting', paused = 1, worker = NULL, seq = ? WHERE id = ?"),
    finish: db.prepare(
      'UPDATE trials SET state = ?, "values" = COALESCE(?, "values"), reason = ?, finished_at = ?, seq = ? WHERE id = ? RETURNING *'
    ),
    heartbeat: db.prepare("UPDATE trials SET heartbeat = ? WHERE id = ? AND state = 'Running'"),
    heartbeats: db.prepare("SELECT id, heartbeat FROM trials WHERE study_id = ? AND state = 'Running'"),
    // (The states' names written out: SQLite uses a partial index only where the query implies its WHERE.)
    running: db.prepare("SELECT * FROM trials WHERE study_id = ? AND state = 'Running'"),
    waiting: db.prepare("SELECT * FROM trials WHERE study_id = ? AND state = 'Waiting'"),
    changed: db.prepare("SELECT * FROM trials WHERE study_id = ? AND seq > ?"),
    changedReports: db.prepare(
      'SELECT i.trial_id, i.step, i."values" FROM trials t JOIN intermediate i ON i.trial_id = t.id WHERE t.study_id = ? AND t.seq > ? ORDER BY i.trial_id, i.step'
    ),
    intermediate: db.prepare('SELECT step, "values" FROM intermediate WHERE trial_id = ? ORDER BY step'),
    setStudyAttrs: db.prepare("UPDATE studies SET user_attrs = ?, system_attrs = ? WHERE id = ?"),
    studyById: db.prepare("SELECT * FROM studies WHERE id = ?")
  }

  // Each study's history as last read, marked with the highest change counter seen.
  const caches = new Map<number, HistoryCache<number>>()
  const given = new Handed()
  const cacheOf = (studyId: number): HistoryCache<number> => {
    let c = caches.get(studyId)
    if (!c) {
      c = new HistoryCache(0)
      caches.set(studyId, c)
    }
    return c
  }

  const intermediateOf = (trialId: number): Array<Metric> =>
    (q.intermediate.all(trialId) as Array<{ step: number; values: string }>).map((r) => ({
      step: r.step,
      values: JSON.parse(r.values)
    }))

  /**
   * The trials of a study changed since `since`, with their reports, in two queries (one for the
   * reports of all of them: a query a trial was a third of a dashboard's cost following a study).
   * Run inside a transaction, so that both read the same state.
   */
  const changedSince = (studyId: number, since: number): Array<{ readonly trial: FrozenTrial; readonly seq: number }> => {
    const rows = q.changed.all(studyId, since) as Array<TrialRow>
    if (rows.length === 0) return []
    const reports = new Map<number, Array<Metric>>()
    for (const r of q.changedReports.all(studyId, since) as Array<{ trial_id: number; step: number; values: string }>) {
      let list = reports.get(r.trial_id)
      if (list === undefined) reports.set(r.trial_id, (list = []))
      list.push({ step: r.step, values: JSON.parse(r.values) })
    }
    return rows.map((r) => ({ trial: toTrial(r, reports.get(r.id) ?? []), seq: r.seq }))
  }
  const readChanged = db.transaction(changedSince)

  /** Only Running or Waiting trials, from their partial indexes (`fewStates`). */
  const readFew = db.transaction((studyId: number, states: ReadonlyArray<"Running" | "Waiting">): Array<FrozenTrial> => {
    const rows = states.flatMap((state) => (state === "Running" ? q.running : q.waiting).all(studyId) as Array<TrialRow>)
    return rows.sort((a, b) => a.number - b.number).map((r) => toTrial(r, intermediateOf(r.id)))
  })

  const nextSeq = (studyId: number): number => (q.bump.get(studyId) as { seq: number }).seq

  // Domain errors are thrown inside transactions (so that they roll back) and failed with here;
  // anything else thrown is the database's own failure.
  const run = <A, E = never>(operation: string, f: () => A): Effect.Effect<A, E | StorageError> =>
    Effect.suspend((): Effect.Effect<A, E | StorageError> => {
      try {
        return Effect.succeed(f())
      } catch (e) {
        if (isDomainError(e)) return Effect.fail(e as E)
        return Effect.fail(new StorageError({ operation, reason: `${file}: ${(e as Error).message}`, cause: e }))
      }
    })

  const trialRow = (trialId: number): TrialRow => {
    const row = q.trial.get(trialId) as TrialRow | undefined
    if (!row) throw new TrialStateError({ trial: trialId, reason: `no trial with id ${trialId}` })
    return row
  }

  /** Registers parameter distributions for the study, failing on a conflict with earlier trials. */
  const registerParams = (studyId: number, distributions: Readonly<Record<string, Distribution.Distribution>>) => {
    const cache = cacheOf(studyId)
    const fresh = Object.keys(distributions).filter((k) => !cache.params.has(k))
    if (fresh.length > 0) {
      for (const k of fresh) q.insertParam.run(studyId, k, JSON.stringify(distributions[k]))
      for (const r of q.studyParams.all(studyId) as Array<{ name: string; distribution: string }>) {
        cache.params.set(r.name, read.distribution(r.distribution, `parameter "${r.name}" of study id ${studyId}`))
      }
    }
    return checkCompatible(cache.params, distributions)
  }

  const nextNumber = (studyId: number) => (q.nextNumber.get(studyId) as { n: number }).n

  const createTrial = db.transaction((studyId: number, init: TrialInit) => {
    const number = nextNumber(studyId)
    const sampled = sampledFor(init, number)
    const keep = sampled !== undefined && (init.claim === undefined || q.claim.run(studyId, init.claim).changes > 0)
    const distributions = keep ? sampled.distributions : {}
    const incompatible = registerParams(studyId, distributions)
    if (incompatible) throw incompatible
    const now = Date.now()
    const isRunning = init.state === "Running"
    const row = q.insertTrial.get({
      studyId,
      number,
      state: init.state,
      params: JSON.stringify(keep ? sampled.params : {}),
      distributions: JSON.stringify(distributions),
      userAttrs: JSON.stringify(init.userAttrs ?? {}),
      systemAttrs: JSON.stringify({ ...init.systemAttrs, ...(keep && init.claim !== undefined ? { claim: init.claim } : {}) }),
      startedAt: isRunning ? now : null,
      worker: isRunning ? (init.worker ?? null) : null,
      heartbeat: isRunning ? now : null,
      seq: nextSeq(studyId)
    }) as TrialRow
    return toTrial(row, [])
  })

  /** Runs `f` on a running trial inside a write transaction. */
  const onRunning = <A, E = never>(operation: string, trialId: number, f: (row: TrialRow, seq: number) => A) =>
    run<A, E | TrialStateError>(
      operation,
      db.transaction(() => {
        const row = trialRow(trialId)
        if (row.state !== "Running") throw notRunning(row.number, row.state, operation)
        return f(row, nextSeq(row.study_id))
      }).immediate
    )

  const storage: StorageService = {
    label: `sqlite:${file}`,
    // A finish and the next trial in one transaction: one commit a trial instead of two.
    makesNext: true,
    createStudy: (name, options) =>
      run<StudyInfo, StudyMismatch>(
        "createStudy",
        db.transaction(() => {
          const existing = q.studyByName.get(name) as StudyRow | undefined
          if (existing) {
            const mismatch = checkDirections(name, read.directions(existing.directions, studyAt(existing)), options.directions)
            if (mismatch) throw mismatch
            return toStudy(existing)
          }
          return toStudy(
            q.insertStudy.get(name, JSON.stringify(options.directions), JSON.stringify(options.metrics ?? []), Date.now()) as StudyRow
          )
        }).immediate
      ),
    getStudy: (name) =>
      run<StudyInfo, StudyNotFound>("getStudy", () => {
        const row = q.studyByName.get(name) as StudyRow | undefined
        if (!row) throw new StudyNotFound({ study: name })
        return toStudy(row)
      }),
    listStudies: () => run("listStudies", () => (q.studies.all() as Array<StudyRow>).map(toStudy)),
    deleteStudy: (name) =>
      run<void, StudyNotFound>("deleteStudy", () => {
        const row = q.studyByName.get(name) as StudyRow | undefined
        if (!row) throw new StudyNotFound({ study: name })
        q.deleteStudy.run(row.id)
        caches.delete(row.id)
        given.drop(row.id)
      }),
    setStudyAttr: (studyId, kind, key, value) =>
      run(
        "setStudyAttr",
        db.transaction(() => {
          const s = toStudy(q.studyById.get(studyId) as StudyRow)
          const user = kind === "user" ? { ...s.userAttrs, [key]: value } : s.userAttrs
          const system = kind === "system" ? { ...s.systemAttrs, [key]: value } : s.systemAttrs
          q.setStudyAttrs.run(JSON.stringify(user), JSON.stringify(system), studyId)
        }).immediate
      ),
    createTrial: (studyId, init) => run<FrozenTrial, InvalidSpace>("createTrial", () => createTrial.immediate(studyId, init)),
    nextNumber: (studyId) => run("nextNumber", () => nextNumber(studyId)),
    claimWaiting: (studyId, worker, trialId) => {
      if (trialId === undefined) {
        const handed = given.take(studyId, worker)
        if (handed !== undefined) return Effect.succeed(Option.some(handed))
      }
      const oldest = () => (q.oldestWaiting.get(studyId) as { id: number } | undefined)?.id
      const claim = db.transaction(() => {
        const id = trialId ?? oldest()
        if (id === undefined) return Option.none()
        const now = Date.now()
        const row = q.start.get(worker, now, now, nextSeq(studyId), id) as TrialRow | undefined
        return row ? Option.some(toTrial(row, intermediateOf(row.id))) : Option.none()
      })
      // Most asks find no waiting trial: look first without taking the write lock.
      return run("claimWaiting", () => (trialId === undefined && oldest() === undefined ? Option.none() : claim.immediate()))
    },
    setParams: (trialId, params, distributions, claim) =>
      onRunning<void, InvalidSpace | ClaimTaken>("set parameters", trialId, (row, seq) => {
        if (claim !== undefined && q.claim.run(row.study_id, claim).changes === 0) throw new ClaimTaken({ claim })
        const incompatible = registerParams(row.study_id, distributions)
        if (incompatible) throw incompatible
        const p = { ...read.params(row.params, trialAt(row)), ...params }
        const d = { ...read.distributions(row.distributions, trialAt(row)), ...distributions }
        q.setParams.run(JSON.stringify(p), JSON.stringify(d), seq, trialId)
        if (claim !== undefined) {
          const system = { ...read.systemAttrs(row.system_attrs, trialAt(row)), claim }
          q.setAttrs.run(row.user_attrs, JSON.stringify(system), seq, trialId)
        }
      }),
    report: (trialId, metric) =>
      onRunning("report", trialId, (_, seq) => {
        q.report.run(trialId, metric.step, JSON.stringify(metric.values))
        q.touch.run(seq, trialId)
      }),
    setTrialAttr: (trialId, kind, key, value) =>
      run<void, TrialStateError>(
        "setTrialAttr",
        db.transaction(() => {
          const row = trialRow(trialId)
          if (row.state !== "Running" && row.state !== "Waiting") throw notRunning(row.number, row.state, "set an attribute")
          const user: Record<string, Json> = { ...read.userAttrs(row.user_attrs, trialAt(row)) }
          const system: Record<string, Json> = { ...read.systemAttrs(row.system_attrs, trialAt(row)) }
          ;(kind === "user" ? user : system)[key] = value
          q.setAttrs.run(JSON.stringify(user), JSON.stringify(system), nextSeq(row.study_id), trialId)
        }).immediate
      ),
    pauseTrial: (trialId) => onRunning("pause", trialId, (_, seq) => void q.pause.run(seq, trialId)),
    finishTrial: (trialId, end) =>
      Effect.map(
        onRunning("finish", trialId, (row0, seq) => {
          // The retry in the same transaction: it is made exactly when the trial fails.
          if (end.retry !== undefined) createTrial(row0.study_id, end.retry)
          const row = q.finish.get(
            end.state,
            end.values ? JSON.stringify(end.values) : null,
            end.reason ?? null,
            end.finishedAt ?? Date.now(),
            seq,
            trialId
          ) as TrialRow
          // The worker's next trial, when none waits (see TrialEnd.next).
          const made = end.next !== undefined && q.oldestWaiting.get(row0.study_id) === undefined ? createTrial(row0.study_id, end.next) : undefined
          return { done: toTrial(row, intermediateOf(trialId)), made, studyId: row0.study_id }
        }),
        ({ done, made, studyId }) => {
          if (made !== undefined) given.put(studyId, end.next?.worker ?? "", made)
          return done
        }
      ),
    claim: (studyId, key) => run("claim", () => q.claim.run(studyId, key).changes > 0),
    heartbeat: (ids) =>
      run(
        "heartbeat",
        db.transaction(() => {
          const now = Date.now()
          for (const id of ids) q.heartbeat.run(now, id)
        })
      ),
    getTrial: (trialId) =>
      run<FrozenTrial, TrialStateError>("getTrial", () => toTrial(trialRow(trialId), intermediateOf(trialId))),
    getTrials: (studyId, options) =>
      run("getTrials", () => {
        const few = fewStates(options?.states)
        if (few !== undefined) return readFew(studyId, few)
        const cache = cacheOf(studyId)
        for (const { seq, trial } of readChanged(studyId, cache.mark)) {
          cache.put(trial, seq)
          if (seq > cache.mark) cache.mark = seq
        }
        return cache.trials(options?.states)
      }),
    heartbeats: (studyId) =>
      run("heartbeats", () => {
        const out = new Map<number, number>()
        for (const r of q.heartbeats.all(studyId) as Array<{ id: number; heartbeat: number | null }>) {
          if (r.heartbeat !== null) out.set(r.id, r.heartbeat)
        }
        return out
      }),
    // One read transaction: each trial's row and its reports are of the same moment.
    changedTrials: (studyId, since) =>
      run(
        "changedTrials",
        () => {
          const changed = readChanged(studyId, since).sort((a, b) => a.seq - b.seq)
          return { seq: changed.length === 0 ? since : changed[changed.length - 1].seq, trials: changed.map((c) => c.trial) }
        }
      ),
    close: Effect.sync(() => {
      if (db.open) db.close()
    })
  }
  return storage
}
