// Storage in a PostgreSQL database through node-postgres (pg) directly, shared by workers on many
// machines. The semantics are the SQLite storage's; what differs is how concurrency is handled.
//
// - Reading only what changed. Each trial row keeps the id of the transaction that last changed it
//   (`xid`, PostgreSQL 13's xid8). A reader keeps the horizon of its last snapshot (the oldest
//   transaction still running then: every transaction below it had ended) and next reads the rows
//   at or past it. A change committed after that snapshot was made by a transaction at or past the
//   horizon, so none is missed, and writers never contend on a per-study counter.
// - Trial numbers come from a counter on the study row, taken in the statement that inserts the
//   trial: concurrent creators queue on that row and each gets the next number.
// - Waiting trials are claimed with FOR UPDATE SKIP LOCKED: concurrent claimers each take another.
// - Most calls are one statement (one round trip); those that read before they write run in a
//   transaction with the trial's row locked.
// - Failures of the connection (a server restart) are retried with backoff on a fresh connection.
//   A write whose commit was not seen may have happened, so each write is idempotent when retried:
//   a created trial carries a token of the call, a claim its owner, a finish its exact values.
import {
  ClaimTaken,
  type Distribution,
  type InvalidSpace,
  type Storage,
  StorageBackend,
  StorageError,
  type StudyMismatch,
  StudyNotFound,
  type Trial,
  TrialStateError
} from "@tunekit/core"
import { Effect, Option } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
import * as pools from "./connection.js"
import type { Connection } from "./connection.js"
import { backoff, isTransient, retrying } from "./retry.js"
import { migrate, SchemaTooNew } from "./schema.js"

export interface PgOptions {
  /** The PostgreSQL schema holding the tables (default "tunekit"). */
  readonly schema?: string
  /** Connections in the pool (default 10). */
  readonly poolSize?: number
  /** How long a call keeps retrying when the connection fails, in ms (default 60 s). */
  readonly retryMs?: number
}

type Row = StorageBackend.TrialRow & { xid: string; paused: boolean; token: string | null; inter: string | null }

// int8 columns (ids, times in ms) as numbers: they stay far below 2^53.
// (pg asks for the parsers of every column at every execution: the same function each time.)
const int8 = (v: string) => Number(v)
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? int8 : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) as never
}

const { checkCompatible, checkDirections, isDomainError, notRunning, toStudy, toTrial } = StorageBackend

export const makePostgres = (conn: Connection, options: PgOptions = {}): Effect.Effect<Storage.StorageService, StorageError> =>
  Effect.gen(function*() {
    const s = pg.escapeIdentifier(options.schema ?? "tunekit")
    const retryMs = options.retryMs ?? 60_000
    const pool = pools.pool(conn, { max: options.poolSize ?? 10, name: "tunekit", types })
    const fail = (operation: string, e: unknown) =>
      new StorageError({
        operation,
        reason: `${conn.label}: ${conn.mask(e instanceof Error ? e.message : String(e))}`,
        // The cause's text may hold the connection string: keep only what is safe to show.
        cause: e instanceof Error ? { name: e.name, code: (e as { code?: unknown }).code, message: conn.mask(e.message) } : undefined
      })
    yield* retrying(async () => {
      const client = await pool.connect()
      try {
        await migrate(client, s, `the database ${conn.label}`)
      } finally {
        client.release()
      }
    }, Math.min(retryMs, 10_000)).pipe(
      Effect.mapError((e) =>
        e instanceof SchemaTooNew
          ? new StorageError({ operation: "open", reason: e.message })
          : fail("open", new Error(`cannot open PostgreSQL storage: ${(e as Error).message}`))
      ),
      Effect.tapError(() => Effect.promise(() => pool.end().catch(() => undefined)))
    )
    return build(pool, s, conn, retryMs, fail)
  })

const build = (
  pool: pg.Pool,
  s: string,
  conn: Connection,
  retryMs: number,
  fail: (operation: string, e: unknown) => StorageError
): Storage.StorageService => {
  const COLS = `t.id, t.study_id, t.number, t.state, t.params, t.distributions, t."values", t.user_attrs, t.system_attrs,
    t.started_at, t.finished_at, t.worker, t.reason, t.paused, t.token, t.xid::text AS xid`
  // A trial's metrics as the elements of a JSON array, in order of step (stored values are JSON).
  const INTER = `(SELECT string_agg('{"step":' || i.step::text || ',"values":' || i."values" || '}', ',' ORDER BY i.step)
    FROM ${s}.intermediate i WHERE i.trial_id = t.id) AS inter`
  const STUDY = `id, name, directions, metrics, user_attrs, system_attrs, created_at`

  const toFrozen = (r: Row): Trial.FrozenTrial => toTrial(r, r.inter === null ? [] : JSON.parse(`[${r.inter}]`))

  type Db = pg.Pool | pg.PoolClient
  // Every statement is prepared once per connection: the server parses and plans the hot path's
  // CTEs once, not at each call (about half of a write's time otherwise).
  const prepared = pools.prepared("tunekit")
  const q = async <R extends pg.QueryResultRow = Row>(db: Db, text: string, values: ReadonlyArray<unknown> = []) =>
    (await prepared<R>(db, text, values)).rows

  let down = false
  /**
   * Runs a call, retrying it on a fresh connection while the connection fails (each try is told
   * its attempt: a retried write checks whether its first try had committed). Domain errors thrown
   * by `body` are its typed failures; anything else is the database's.
   */
  const call = <A, E = never>(operation: string, body: (attempt: number) => Promise<A>): Effect.Effect<A, E | StorageError> =>
    Effect.suspend(() => {
      let attempt = 0
      const once = Effect.suspend(() => Effect.tryPromise({ try: () => body(attempt++), catch: (e) => e }))
      // The retry schedule is set up only once a try has failed: most calls succeed at once.
      return once.pipe(
        Effect.catchIf(isTransient, (e) =>
          Effect.zipRight(
            down ? Effect.void : Effect.sync(() => void (down = true)).pipe(
              Effect.zipRight(Effect.logWarning(`storage ${conn.label}: connection lost (${conn.mask(String((e as Error).message))}); reconnecting`))
            ),
            once.pipe(
              Effect.retry({ schedule: backoff(retryMs), while: isTransient }),
              Effect.tap(() =>
                down ? Effect.sync(() => void (down = false)).pipe(Effect.zipRight(Effect.logInfo(`storage ${conn.label}: reconnected`))) : Effect.void
              )
            )
          )),
        Effect.mapError((e) => (isDomainError(e) ? (e as E) : fail(operation, e)))
      )
    })

  /** Runs `f` in a transaction on one connection of the pool. */
  const tx = async <A>(f: (db: pg.PoolClient) => Promise<A>): Promise<A> => {
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      await client.query("BEGIN")
      const out = await f(client)
      await client.query("COMMIT")
      return out
    } catch (e) {
      if (isTransient(e)) broken = e as Error
      else await client.query("ROLLBACK").catch((r) => void (broken = r))
      throw e
    } finally {
      // A connection that failed is destroyed rather than returned to the pool.
      client.release(broken)
    }
  }

  const trialRow = async (db: Db, trialId: number, lock = false): Promise<Row> => {
    const [row] = await q(db, `SELECT ${COLS}, ${INTER} FROM ${s}.trials t WHERE t.id = $1${lock ? " FOR UPDATE" : ""}`, [trialId])
    if (row === undefined) throw new TrialStateError({ trial: trialId, reason: `no trial with id ${trialId}` })
    return row
  }

  const turns = new Map<number, Promise<unknown>>()
  /** Runs `f` after the reads of the study that this process began before it. */
  const inTurn = <A>(studyId: number, f: () => Promise<A>): Promise<A> => {
    const next = (turns.get(studyId) ?? Promise.resolve()).then(f)
    turns.set(studyId, next.catch(() => undefined))
    return next
  }

  // Each study's history as last read, marked with the horizon of the snapshot it was read in.
  const caches = new Map<number, StorageBackend.HistoryCache<string>>()
  const cacheOf = (studyId: number) => {
    let c = caches.get(studyId)
    if (!c) {
      c = new StorageBackend.HistoryCache("0")
      caches.set(studyId, c)
    }
    return c
  }

  // What this process last learnt of a study's next number, and whether it had a Waiting trial to
  // claim: from the statement that finished a trial, found nothing to claim, or made a worker's
  // next trial (then whether a trial waits is not known). A worker asks right after a finish
  // (Study's ask: claim, else sample for the next number and create), so the ask skips a claim
  // that would find nothing and does not read the number again: round trips are most of a trivial
  // trial's cost. Both are hints, used while fresh: a trial another process enqueues meanwhile is
  // claimed by the next ask that reads the database. Creating a trial here drops the hint.
  const nexts = new Map<number, { readonly n: number; readonly at: number; readonly waiting: boolean }>()
  const NEXT_FRESH_MS = 100
  const fresh = (hint: { readonly at: number } | undefined) => hint !== undefined && Date.now() - hint.at <= NEXT_FRESH_MS

  // The study of each trial running here (created or claimed by this process), so that setParams
  // can check its distributions against the study's cache without reading the trial first.
  const running = new Map<number, number>()
  const given = new StorageBackend.Handed()
  const runs = (r: Row) => {
    if (r.state === "Running") running.set(r.id, r.study_id)
    return toFrozen(r)
  }

  /**
   * Registers parameter distributions for the study (names it has not seen), and checks them
   * against those registered: the first writer of a name fixes its distribution. The study's
   * registered names are read first, so that a conflict is found before anything is written.
   */
  const registerParams = async (db: Db, studyId: number, distributions: Readonly<Record<string, Distribution.Distribution>>) => {
    const cache = cacheOf(studyId)
    const refresh = async () => {
      for (const r of await q<{ name: string; distribution: string }>(db, `SELECT name, distribution FROM ${s}.study_params WHERE study_id = $1`, [studyId])) {
        cache.params.set(r.name, StorageBackend.readDistribution(r.distribution, `parameter "${r.name}" of study id ${studyId}`))
      }
    }
    const unknown = () => Object.keys(distributions).filter((k) => !cache.params.has(k))
    if (unknown().length === 0) return checkCompatible(cache.params, distributions)
    await refresh()
    const incompatible = checkCompatible(cache.params, distributions)
    const fresh = unknown()
    if (incompatible || fresh.length === 0) return incompatible
    await q(
      db,
      `INSERT INTO ${s}.study_params (study_id, name, distribution) SELECT $1, n, d FROM unnest($2::text[], $3::text[]) AS x(n, d)
       ON CONFLICT DO NOTHING`,
      [studyId, fresh, fresh.map((k) => JSON.stringify(distributions[k]))]
    )
    // Another worker may have registered one of them meanwhile, with another distribution.
    await refresh()
    return checkCompatible(cache.params, distributions)
  }

  /** Whether the study's cache holds every one of these names, each with a compatible distribution. */
  const knownCompatible = (studyId: number, distributions: Readonly<Record<string, Distribution.Distribution>>) => {
    const params = cacheOf(studyId).params
    return Object.keys(distributions).every((k) => params.has(k)) && checkCompatible(params, distributions) === undefined
  }

  /** A JSON object (text) with another's keys added or replaced, in JSON.stringify({ ...a, ...b })'s order and form. */
  const merged = (a: string, b: string) =>
    `(SELECT COALESCE('{' || string_agg(to_json(m.k)::text || ':' || m.v, ',' ORDER BY m.o) || '}', '{}') FROM (
       SELECT o.key AS k, COALESCE(n.value, o.value)::text AS v, o.ord AS o
         FROM json_each(${a}::json) WITH ORDINALITY o(key, value, ord) LEFT JOIN json_each(${b}::json) n ON n.key = o.key
       UNION ALL
       SELECT n.key, n.value::text, 1000000000 + n.ord FROM json_each(${b}::json) WITH ORDINALITY n(key, value, ord)
        WHERE NOT EXISTS (SELECT 1 FROM json_each(${a}::json) o WHERE o.key = n.key)) m)`

  // setParams in one statement: the trial's row locked, its claim taken (or found on this trial by
  // a retry, $5, whose first try committed unseen), the parameters merged into those stored. It
  // writes nothing unless the trial runs and the claim is its own; `done` says whether it wrote.
  const SET_PARAMS = `WITH t AS (SELECT id, study_id, number, state, system_attrs FROM ${s}.trials WHERE id = $1 FOR UPDATE),
    c AS (INSERT INTO ${s}.claims (study_id, key) SELECT study_id, $4::text FROM t WHERE $4::text IS NOT NULL AND state = 'Running'
      ON CONFLICT DO NOTHING RETURNING key),
    ok AS (SELECT id FROM t WHERE state = 'Running'
      AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM c) OR ($5::boolean AND system_attrs::json->>'claim' = $4::text))),
    u AS (UPDATE ${s}.trials x SET params = ${merged("x.params", "$2::text")}, distributions = ${merged("x.distributions", "$3::text")},
      system_attrs = CASE WHEN $4::text IS NULL THEN x.system_attrs ELSE ${merged("x.system_attrs", "json_build_object('claim', $4::text)::text")} END,
      xid = pg_current_xact_id()
      FROM ok WHERE x.id = ok.id RETURNING x.id)
    SELECT number, state, EXISTS (SELECT 1 FROM u) AS done FROM t`

  /** A running trial's finish ($1 the trial, $2-$6 its end and the call's token), before its RETURNING. */
  const FINISH = `UPDATE ${s}.trials t SET state = $2, "values" = COALESCE($3, t."values"), reason = $4, finished_at = $5, token = $6,
      xid = pg_current_xact_id()
    WHERE t.id = $1 AND t.state = 'Running'`
  /** Whether the study (an SQL expression) has a trial waiting to be claimed (not a paused one). */
  const waitingIn = (study: string) => `EXISTS (SELECT 1 FROM ${s}.trials w WHERE w.study_id = ${study} AND w.state = 'Waiting' AND NOT w.paused)`

  /** Why a write found the trial not running (or missing). */
  const notRunningError = async (trialId: number, operation: string) => {
    const row = await trialRow(pool, trialId)
    return notRunning(row.number, row.state, operation)
  }

  const studyRow = async (db: Db, name: string) =>
    (await q<StorageBackend.StudyRow>(db, `SELECT ${STUDY} FROM ${s}.studies WHERE name = $1`, [name]))[0]

  /**
   * The CTEs that create a trial of `study` (an SQL expression; nothing when it gives no row), up
   * to `made`, which returns its row. The number comes from the study's counter; the claim and the
   * expected number decide whether the trial keeps the caller's params (see TrialInit). Its
   * values are `creating.values(...)`, from placeholder `$at` on: the params are JSON arrays, those
   * sampled for the expected number and those after it (`later`).
   */
  const creating = (study: string, at: number) => {
    const p = (i: number) => `$${at + i}`
    return `n AS (
         UPDATE ${s}.studies SET next_number = next_number + 1 WHERE id = ${study} RETURNING next_number - 1 AS number
       ), k AS (
         SELECT number, number - COALESCE(${p(0)}::int, number) AS i FROM n
       ), c AS (
         INSERT INTO ${s}.claims (study_id, key, owner) SELECT ${study}, ${p(1)}::text, ${p(10)}::text FROM k WHERE ${p(1)}::text IS NOT NULL AND k.i = 0
         ON CONFLICT DO NOTHING RETURNING key
       ), keep AS (
         SELECT k.number, k.i, k.i >= 0 AND k.i < json_array_length(${p(3)}::json) AND (${p(1)}::text IS NULL OR EXISTS (SELECT 1 FROM c)) AS ok FROM k
       ), made AS (
         INSERT INTO ${s}.trials AS t (study_id, number, state, params, distributions, user_attrs, system_attrs, started_at, worker, heartbeat, token)
         SELECT ${study}, keep.number, ${p(2)}, CASE WHEN keep.ok THEN (${p(3)}::json -> keep.i)::text ELSE '{}' END,
           CASE WHEN keep.ok THEN (${p(4)}::json -> keep.i)::text ELSE '{}' END, ${p(5)},
           CASE WHEN keep.ok THEN ${p(6)} ELSE ${p(7)} END, ${p(8)}, ${p(9)}, ${p(8)}, ${p(10)} FROM keep
         RETURNING t.*
       )`
  }
  // The JSON of the params and distributions the last create sent, by object: consecutive creates
  // send the same samples for the numbers they share (a sampler's samples are not changed once
  // taken). Only the last create's (a WeakMap of all cost more in the young generation's GC).
  let sent = new Map<object, string>()
  const creatingValues = (init: Storage.TrialInit, token: string): Array<unknown> => {
    const running = init.state === "Running"
    const system = init.systemAttrs ?? {}
    const candidates = candidatesOf(init)
    const sending = new Map<object, string>()
    const json = (objects: ReadonlyArray<object>) =>
      `[${
        objects.map((o) => {
          const text = sent.get(o) ?? JSON.stringify(o)
          sending.set(o, text)
          return text
        }).join(",")
      }]`
    const values = [
      init.expectedNumber ?? null,
      init.claim ?? null,
      init.state,
      json(candidates.map((c) => c.params)),
      json(candidates.map((c) => c.distributions)),
      JSON.stringify(init.userAttrs ?? {}),
      JSON.stringify(init.claim === undefined ? system : { ...system, claim: init.claim }),
      JSON.stringify(system),
      running ? Date.now() : null,
      running ? (init.worker ?? null) : null,
      token
    ]
    sent = sending
    return values
  }

  // The hot statements' texts, built once: a text built at each call cost its building and the
  // hashing that finds its prepared name.
  const INSERT_TRIAL = `WITH ${creating("$1::bigint", 2)} SELECT ${COLS}, NULL::text AS inter FROM made t`
  /** The finish, then the next trial when no trial waits to be claimed (TrialEnd.next). */
  const FINISH_AND_CREATE = `WITH f AS (${FINISH} RETURNING t.*),
    free AS (SELECT f.study_id FROM f WHERE NOT ${waitingIn("f.study_id")}),
    ${creating("(SELECT study_id FROM free)", 7)}
    SELECT false AS made, ${COLS}, ${INTER} FROM f t UNION ALL SELECT true, ${COLS}, NULL FROM made t`
  /** The finish, with the study's next number and whether a trial waits, for the ask that follows. */
  const FINISH_READING_NEXT = `${FINISH} RETURNING ${COLS}, ${INTER},
    (SELECT st.next_number FROM ${s}.studies st WHERE st.id = t.study_id) AS next_number, ${waitingIn("t.study_id")} AS waiting`
  const CLAIM = `UPDATE ${s}.trials t SET state = 'Running', worker = $2, started_at = COALESCE(t.started_at, $3), heartbeat = $3,
      paused = false, token = $4, xid = pg_current_xact_id()
    FROM w WHERE t.id = w.id RETURNING ${COLS}, ${INTER}`
  /** Claims the first waiting trial; with nothing to claim, the study's next number (same snapshot). */
  const CLAIM_FIRST = `WITH w AS (SELECT id FROM ${s}.trials WHERE study_id = $1 AND state = 'Waiting' AND NOT paused ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED),
    c AS (${CLAIM})
    SELECT st.next_number, c.* FROM ${s}.studies st LEFT JOIN c ON true WHERE st.id = $1`
  /** Claims waiting trial $5. */
  const CLAIM_ONE = `WITH w AS (SELECT id FROM ${s}.trials WHERE study_id = $1 AND id = $5 AND state = 'Waiting' FOR UPDATE SKIP LOCKED) ${CLAIM}`
  /** An upsert: a report told twice (a retry) is stored once. */
  const REPORT = `WITH t AS (UPDATE ${s}.trials SET xid = pg_current_xact_id() WHERE id = $1 AND state = 'Running' RETURNING id)
    INSERT INTO ${s}.intermediate (trial_id, step, "values") SELECT id, $2, $3 FROM t
    ON CONFLICT (trial_id, step) DO UPDATE SET "values" = excluded."values" RETURNING trial_id`

  const insertTrial = (studyId: number, init: Storage.TrialInit, token: string, db: Db = pool) => {
    // A number read before this trial takes one is no longer the next.
    nexts.delete(studyId)
    return q(db, INSERT_TRIAL, [studyId, ...creatingValues(init, token)])
  }

  /** The params a trial may keep, by offset from its expected number (`TrialInit.later`). */
  const candidatesOf = (init: Storage.TrialInit): ReadonlyArray<Storage.SampledParams> => [
    { params: init.params ?? {}, distributions: init.distributions ?? {} },
    ...(init.claim === undefined ? init.later ?? [] : [])
  ]

  /** Only Running or Waiting trials, from their partial indexes (`fewStates`). */
  const readFew = async (studyId: number, states: ReadonlyArray<"Running" | "Waiting">) => {
    const which = states.map((state) => `t.state = '${state}'`).join(" OR ")
    const rows = await q(pool, `SELECT ${COLS}, ${INTER} FROM ${s}.trials t WHERE t.study_id = $1 AND (${which}) ORDER BY t.number`, [studyId])
    return rows.map(toFrozen)
  }

  const byToken = async (token: string) => (await q(pool, `SELECT ${COLS}, ${INTER} FROM ${s}.trials t WHERE t.token = $1`, [token]))[0]

  /**
   * The rows changed at or past a horizon (an xid8, as text), and this snapshot's horizon, in one
   * read (one prepared statement for the history and the change feed).
   */
  const changedSince = (studyId: number, mark: string) =>
    q<Row & { horizon: string }>(
      pool,
      `SELECT h.horizon, c.* FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon) h
       LEFT JOIN LATERAL (SELECT ${COLS}, ${INTER} FROM ${s}.trials t WHERE t.study_id = $1 AND t.xid >= $2::xid8) c ON true`,
      [studyId, mark]
    )

  const storage: Storage.StorageService = {
    label: conn.label,
    // A finish and the next trial in one statement: one round trip a trial instead of two.
    makesNext: true,
    createStudy: (name, options) =>
      call<Storage.StudyInfo, StudyMismatch>("createStudy", async () => {
        for (;;) {
          // A concurrent creator's row is invisible to this statement's snapshot: then look again.
          const [row] = await q<StorageBackend.StudyRow>(
            pool,
            `WITH ins AS (
               INSERT INTO ${s}.studies (name, directions, metrics, created_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (name) DO NOTHING RETURNING ${STUDY}
             ) SELECT * FROM ins UNION ALL SELECT ${STUDY} FROM ${s}.studies WHERE name = $1`,
            [name, JSON.stringify(options.directions), JSON.stringify(options.metrics ?? []), Date.now()]
          )
          if (row === undefined) continue
          const study = toStudy(row)
          const mismatch = checkDirections(name, study.directions, options.directions)
          if (mismatch) throw mismatch
          return study
        }
      }),
    getStudy: (name) =>
      call<Storage.StudyInfo, StudyNotFound>("getStudy", async () => {
        const row = await studyRow(pool, name)
        if (!row) throw new StudyNotFound({ study: name })
        return toStudy(row)
      }),
    listStudies: () =>
      call("listStudies", async () => (await q<StorageBackend.StudyRow>(pool, `SELECT ${STUDY} FROM ${s}.studies ORDER BY id`)).map(toStudy)),
    deleteStudy: (name) =>
      call<void, StudyNotFound>("deleteStudy", async (attempt) => {
        const [row] = await q<{ id: number }>(pool, `DELETE FROM ${s}.studies WHERE name = $1 RETURNING id`, [name])
        // A retry finds the study gone when the first try's commit went unseen.
        if (!row && attempt === 0) throw new StudyNotFound({ study: name })
        if (row) {
          caches.delete(row.id)
          given.drop(row.id)
        }
      }),
    setStudyAttr: (studyId, kind, key, value) =>
      call("setStudyAttr", async () => {
        const col = kind === "user" ? "user_attrs" : "system_attrs"
        await q(pool, `UPDATE ${s}.studies SET ${col} = (${col}::jsonb || jsonb_build_object($2::text, $3::jsonb))::text WHERE id = $1`, [
          studyId,
          key,
          JSON.stringify(value)
        ])
      }),
    createTrial: (studyId, init) =>
      Effect.suspend(() => {
        const token = randomUUID()
        return call<Trial.FrozenTrial, InvalidSpace>("createTrial", async () => {
          // Every candidate's, so that the one the trial keeps is registered.
          const distributions = Object.assign({}, ...candidatesOf(init).map((c) => c.distributions))
          const incompatible = await registerParams(pool, studyId, distributions)
          if (incompatible) throw incompatible
          try {
            const [row] = await insertTrial(studyId, init, token)
            if (row === undefined) throw new Error(`no study with id ${studyId}`)
            return runs(row)
          } catch (e) {
            // unique_violation on the token: a try whose commit went unseen created the trial.
            const done = (e as { code?: string }).code === "23505" ? await byToken(token) : undefined
            if (done) return runs(done)
            throw e
          }
        })
      }),
    nextNumber: (studyId) =>
      call("nextNumber", async () => {
        const read = nexts.get(studyId)
        if (read !== undefined) {
          nexts.delete(studyId)
          if (fresh(read)) return read.n
        }
        const [row] = await q<{ n: number }>(pool, `SELECT next_number AS n FROM ${s}.studies WHERE id = $1`, [studyId])
        return row?.n ?? 0
      }),
    claimWaiting: (studyId, worker, trialId) =>
      Effect.suspend(() => {
        if (trialId === undefined) {
          const handed = given.take(studyId, worker)
          if (handed !== undefined) return Effect.succeed(Option.some(handed))
        }
        // The claim's token marks the row, so that a retry finds a claim whose commit it missed.
        const token = randomUUID()
        return call("claimWaiting", async (attempt) => {
          if (attempt > 0) {
            const done = await byToken(token)
            if (done) return Option.some(runs(done))
          }
          if (trialId === undefined) {
            const hint = nexts.get(studyId)
            if (hint !== undefined && !hint.waiting && fresh(hint)) return Option.none()
          }
          const now = Date.now()
          if (trialId !== undefined) {
            const [row] = await q(pool, CLAIM_ONE, [studyId, worker, now, token, trialId])
            return row === undefined ? Option.none() : Option.some(runs(row))
          }
          // With nothing to claim, the study's next number (read in the same snapshot) is kept for
          // the nextNumber call that follows.
          const [row] = await q<Row & { next_number: number }>(pool, CLAIM_FIRST, [studyId, worker, now, token])
          if (row === undefined) return Option.none()
          if (row.id !== null) return Option.some(runs(row))
          nexts.set(studyId, { n: row.next_number, at: Date.now(), waiting: false })
          return Option.none()
        })
      }),
    setParams: (trialId, params, distributions, claim) =>
      call<void, TrialStateError | InvalidSpace | ClaimTaken>("setParams", async (attempt) => {
        // A trial running here whose distributions the study's cache knows and accepts: one
        // statement. Otherwise (a name to register, a conflict to report) the transaction below.
        const studyId = running.get(trialId)
        if (studyId !== undefined && knownCompatible(studyId, distributions)) {
          const [row] = await q<{ number: number; state: Trial.State; done: boolean }>(pool, SET_PARAMS, [
            trialId,
            JSON.stringify(params),
            JSON.stringify(distributions),
            claim ?? null,
            attempt > 0
          ])
          if (row === undefined) throw new TrialStateError({ trial: trialId, reason: `no trial with id ${trialId}` })
          if (row.state !== "Running") throw notRunning(row.number, row.state, "set parameters")
          if (!row.done) throw new ClaimTaken({ claim: claim! })
          return
        }
        return tx(async (db) => {
          const row = await trialRow(db, trialId, true)
          if (row.state !== "Running") throw notRunning(row.number, row.state, "set parameters")
          const t = toTrial(row, [])
          const system = t.systemAttrs
          if (claim !== undefined) {
            const took = await q(db, `INSERT INTO ${s}.claims (study_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING key`, [row.study_id, claim])
            // A retry whose first try committed finds the claim on this very trial.
            if (took.length === 0 && !(attempt > 0 && system.claim === claim)) throw new ClaimTaken({ claim })
          }
          const incompatible = await registerParams(db, row.study_id, distributions)
          if (incompatible) throw incompatible
          await q(db, `UPDATE ${s}.trials SET params = $2, distributions = $3, system_attrs = $4, xid = pg_current_xact_id() WHERE id = $1`, [
            trialId,
            JSON.stringify({ ...t.params, ...params }),
            JSON.stringify({ ...t.distributions, ...distributions }),
            JSON.stringify(claim === undefined ? system : { ...system, claim })
          ])
        })
      }),
    report: (trialId, metric) =>
      call<void, TrialStateError>("report", async () => {
        const done = await q(pool, REPORT, [trialId, metric.step, JSON.stringify(metric.values)])
        if (done.length === 0) throw await notRunningError(trialId, "report")
      }),
    setTrialAttr: (trialId, kind, key, value) =>
      call<void, TrialStateError>("setTrialAttr", async () => {
        const col = kind === "user" ? "user_attrs" : "system_attrs"
        const done = await q(
          pool,
          `UPDATE ${s}.trials SET ${col} = (${col}::jsonb || jsonb_build_object($2::text, $3::jsonb))::text, xid = pg_current_xact_id()
           WHERE id = $1 AND state IN ('Running', 'Waiting') RETURNING id`,
          [trialId, key, JSON.stringify(value)]
        )
        if (done.length === 0) throw await notRunningError(trialId, "set an attribute")
      }),
    pauseTrial: (trialId) =>
      Effect.suspend(() => {
        const token = randomUUID()
        return call<void, TrialStateError>("pauseTrial", async (attempt) => {
          running.delete(trialId)
          const done = await q(
            pool,
            `UPDATE ${s}.trials SET state = 'Waiting', paused = true, worker = NULL, token = $2, xid = pg_current_xact_id()
             WHERE id = $1 AND state = 'Running' RETURNING id`,
            [trialId, token]
          )
          if (done.length > 0) return
          const row = await trialRow(pool, trialId)
          // A retry whose first try committed finds the trial paused by this call.
          if (attempt > 0 && row.token === token) return
          throw notRunning(row.number, row.state, "pause")
        })
      }),
    finishTrial: (trialId, end) =>
      Effect.suspend(() => {
        const token = randomUUID()
        const finishedAt = end.finishedAt ?? Date.now()
        const retry = end.retry
        const next = retry === undefined ? end.next : undefined
        const nextToken = randomUUID()
        const finishValues = [trialId, end.state, end.values ? JSON.stringify(end.values) : null, end.reason ?? null, finishedAt, token]
        /** The worker's next trial, made by this finish: its claim takes it (TrialEnd.next). */
        const hand = (made: Row) => {
          // The worker's tell after this trial samples for the number after it, unread (whether a
          // trial waits is not known): other workers' trials since are covered by `later`.
          nexts.set(Number(made.study_id), { n: Number(made.number) + 1, at: Date.now(), waiting: true })
          given.put(Number(made.study_id), next?.worker ?? "", runs(made))
        }
        const finishAndCreate = async (db: Db): Promise<Row | undefined> => {
          const rows = await q<Row & { made: boolean }>(db, FINISH_AND_CREATE, [...finishValues, ...creatingValues(next!, nextToken)])
          const made = rows.find((r) => r.made)
          if (made !== undefined) hand(made)
          return rows.find((r) => !r.made)
        }
        const finish = async (db: Db) => {
          if (next !== undefined) return finishAndCreate(db)
          const [row] = await q<Row & { next_number: number; waiting: boolean }>(db, FINISH_READING_NEXT, finishValues)
          if (row === undefined) return row
          // The retry in the same transaction: made exactly when the trial fails (its
          // distributions are the trial's own, registered already). It waits, and takes a number.
          if (retry !== undefined) await insertTrial(Number(row.study_id), retry, randomUUID(), db)
          else nexts.set(Number(row.study_id), { n: row.next_number, at: Date.now(), waiting: row.waiting })
          return row
        }
        return call<Trial.FrozenTrial, TrialStateError>("finishTrial", async (attempt) => {
          running.delete(trialId)
          const row = retry === undefined ? await finish(pool) : await tx(finish)
          if (row !== undefined) return toFrozen(row)
          const now = await trialRow(pool, trialId)
          // A retry whose first try committed finds the trial finished by this call (and the next
          // trial it made); a trial another worker finished stays a failure (it is finished once).
          if (attempt > 0 && now.token === token) {
            const made = next === undefined ? undefined : await byToken(nextToken)
            if (made !== undefined) hand(made)
            return toFrozen(now)
          }
          throw notRunning(now.number, now.state, "finish")
        })
      }),
    claim: (studyId, key) =>
      Effect.suspend(() => {
        const owner = randomUUID()
        return call("claim", async (attempt) => {
          const took = await q(
            pool,
            `INSERT INTO ${s}.claims (study_id, key, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key`,
            [studyId, key, owner]
          )
          if (took.length > 0) return true
          if (attempt === 0) return false
          const [held] = await q<{ owner: string | null }>(pool, `SELECT owner FROM ${s}.claims WHERE study_id = $1 AND key = $2`, [studyId, key])
          return held?.owner === owner
        })
      }),
    heartbeat: (ids) =>
      ids.length === 0
        ? Effect.void
        : call("heartbeat", async () => {
          await q(pool, `UPDATE ${s}.trials SET heartbeat = $1 WHERE id = ANY($2::bigint[]) AND state = 'Running'`, [Date.now(), ids])
        }),
    getTrial: (trialId) => call<Trial.FrozenTrial, TrialStateError>("getTrial", async () => toFrozen(await trialRow(pool, trialId))),
    getTrials: (studyId, options) =>
      call("getTrials", () => {
        const few = StorageBackend.fewStates(options?.states)
        return few !== undefined
          ? readFew(studyId, few)
          // One read of a study at a time in this process: a read that began earlier (an older
          // snapshot) never lands after a later one and puts older versions back.
          : inTurn(studyId, async () => {
            const cache = cacheOf(studyId)
            const rows = await changedSince(studyId, cache.mark)
            for (const r of rows) if (r.id !== null && !cache.holds(r.id, r.xid)) cache.put(toFrozen(r), r.xid)
            cache.mark = rows[0].horizon
            return cache.trials(options?.states)
          })
      }),
    // The change counter is the snapshot horizon (xid8): the rows changed at or past `since` are
    // those written by transactions that had not ended when the reader last looked.
    changedTrials: (studyId, since) =>
      call("changedTrials", async () => {
        const rows = await changedSince(studyId, String(since))
        const trials = rows.filter((r) => r.id !== null).sort((a, b) => Number(a.number) - Number(b.number)).map(toFrozen)
        return { seq: Math.max(since, Number(rows[0].horizon)), trials }
      }),
    heartbeats: (studyId) =>
      call("heartbeats", async () => {
        const out = new Map<number, number>()
        const rows = await q<{ id: number; heartbeat: number | null }>(
          pool,
          `SELECT id, heartbeat FROM ${s}.trials WHERE study_id = $1 AND state = 'Running'`,
          [studyId]
        )
        for (const r of rows) if (r.heartbeat !== null) out.set(r.id, r.heartbeat)
        return out
      }),
    close: Effect.promise(() => pool.end().catch(() => undefined))
  }
  return storage
}
